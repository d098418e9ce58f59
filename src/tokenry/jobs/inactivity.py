"""Inactivity, as Zendesk now does: unused tokens are deactivated, long-deactivated deleted.

The questions use the indexes on (account_id, active_on) and (account_id, deactivated_at),
and the work goes in batches (``jobs.batches``). ``active_on`` is the UTC day of a token's
last activity (its last use, else its creation): the index range selects whole days, and the
exact moment decides within the range's first and last day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import delete_token, holder_and_provisioners, scheduler
from tokenry.jobs.batches import each_in_batches
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._common import set_token_active
from tokenry.storage.models import ApiToken

last_activity = func.coalesce(ApiToken.last_used_at, ApiToken.created_at)
BY_ACTIVE_DAY = (ApiToken.active_on, ApiToken.id)  # ix_api_tokens_account_active_on's order


def active_day_key(token: ApiToken) -> tuple[Any, ...]:
    return token.active_on, token.id


def last_active_within(after: datetime | None, until: datetime) -> list[ColumnElement[bool]]:
    """Tokens whose last activity lies in (``after``, ``until``]: the days through the index,
    the moments on the rows it finds."""
    conditions = [ApiToken.active_on <= until.astimezone(UTC).date(), last_activity <= until]
    if after is not None:
        conditions += [ApiToken.active_on >= after.astimezone(UTC).date(),
                       last_activity > after]
    return conditions


def deactivate_unused(core: Core, account_id: int, policy: AccountSettings) -> int:
    if policy.inactivity_days == 0:
        return 0
    cutoff = core.clock() - timedelta(days=policy.inactivity_days)

    def deactivate(session: Session, token: ApiToken) -> bool:
        set_token_active(session, core, scheduler(account_id), token, False,
                         f"unused for {policy.inactivity_days} days")
        deleted_on = "" if policy.deactivated_retention_days == 0 else (
            f"; it will be deleted on "
            f"{(core.clock() + timedelta(days=policy.deactivated_retention_days)).date()} "
            "unless an admin reactivates it")
        enqueue(session, core, account_id, messages.token_event(
            token, "deactivated", "deactivated-inactive",
            f"was deactivated: unused for {policy.inactivity_days} days{deleted_on}",
            None), holder_and_provisioners(session, token))
        return True

    return each_in_batches(core, select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.active.is_(True),
        *last_active_within(None, cutoff)), BY_ACTIVE_DAY, active_day_key, deactivate)


def delete_long_deactivated(core: Core, account_id: int, policy: AccountSettings) -> int:
    if policy.deactivated_retention_days == 0:
        return 0
    cutoff = core.clock() - timedelta(days=policy.deactivated_retention_days)

    def remove(session: Session, token: ApiToken) -> bool:
        delete_token(session, core, token,
                     f"deactivated for {policy.deactivated_retention_days} days")
        return True

    return each_in_batches(core, select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.active.is_(False),
        ApiToken.deactivated_at <= cutoff),
        (ApiToken.deactivated_at, ApiToken.id), lambda t: (t.deactivated_at, t.id), remove)
