"""Inactivity, as Zendesk now does: unused tokens are deactivated, long-deactivated deleted.

The questions use the indexes on (account_id, coalesce(last_used_at, created_at)) and
(account_id, deactivated_at), and the work goes in batches (``jobs.batches``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import delete_token, holder_and_provisioners, scheduler
from tokenry.jobs.batches import each_in_batches
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._common import set_token_active
from tokenry.storage.models import ApiToken

# exactly the expression of the index ix_api_tokens_account_last_activity
last_activity = func.coalesce(ApiToken.last_used_at, ApiToken.created_at)
BY_LAST_ACTIVITY = (last_activity, ApiToken.id)


def last_activity_key(token: ApiToken) -> tuple[Any, ...]:
    return token.last_used_at or token.created_at, token.id


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
        ApiToken.account_id == account_id, ApiToken.active.is_(True), last_activity <= cutoff),
        BY_LAST_ACTIVITY, last_activity_key, deactivate)


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
