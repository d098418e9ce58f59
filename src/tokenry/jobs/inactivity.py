"""Inactivity, as Zendesk now does: unused tokens are deactivated, long-deactivated deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tokenry.core import Core
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import delete_token, holder_and_provisioners, scheduler
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._common import set_token_active
from tokenry.storage.models import ApiToken


def deactivate_unused(core: Core, account_id: int, policy: AccountSettings) -> int:
    if policy.inactivity_days == 0:
        return 0
    cutoff = core.clock() - timedelta(days=policy.inactivity_days)
    last_activity = func.coalesce(ApiToken.last_used_at, ApiToken.created_at)
    with core.db.transaction() as session:
        tokens = list(session.scalars(select(ApiToken).where(
            ApiToken.account_id == account_id, ApiToken.active.is_(True),
            last_activity <= cutoff).with_for_update()))
        for token in tokens:
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
    return len(tokens)


def delete_long_deactivated(core: Core, account_id: int, policy: AccountSettings) -> int:
    if policy.deactivated_retention_days == 0:
        return 0
    cutoff = core.clock() - timedelta(days=policy.deactivated_retention_days)
    with core.db.transaction() as session:
        tokens = list(session.scalars(select(ApiToken).where(
            ApiToken.account_id == account_id, ApiToken.active.is_(False),
            ApiToken.deactivated_at.is_not(None), ApiToken.deactivated_at <= cutoff,
        ).with_for_update()))
        for token in tokens:
            delete_token(session, core, token,
                         f"deactivated for {policy.deactivated_retention_days} days")
    return len(tokens)
