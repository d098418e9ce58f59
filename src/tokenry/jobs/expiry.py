"""Removal dates: reminders before, deactivation at, deletion after the grace period.

Each asks the index on (account_id, expires_at) and works in batches (``jobs.batches``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import RequestState
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import (
    close_live_request,
    delete_token,
    holder_and_provisioners,
    scheduler,
)
from tokenry.jobs.batches import each_in_batches
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._common import set_token_active
from tokenry.storage.models import ApiToken

BY_EXPIRY = (ApiToken.expires_at, ApiToken.id)


def _expiry_key(token: ApiToken) -> tuple[Any, ...]:
    return token.expires_at, token.id


def send_expiry_reminders(core: Core, account_id: int, policy: AccountSettings) -> int:
    """One reminder per threshold (7 and 1 days by default); only the nearest one is due."""
    if not policy.reminder_days:
        return 0
    now = core.clock()
    horizon = now + timedelta(days=max(policy.reminder_days))

    def remind(session: Session, token: ApiToken) -> bool:
        assert token.expires_at is not None
        due = [d for d in policy.reminder_days if now >= token.expires_at - timedelta(days=d)]
        if not due:
            return False
        days = min(due)
        enqueue(session, core, account_id, messages.token_event(
            token, "expiring", f"expiring:{days}d",
            f"expires within {days} day{'s' if days > 1 else ''}", token.expires_at),
            holder_and_provisioners(session, token))
        return True

    return each_in_batches(core, select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.active.is_(True),
        ApiToken.expires_at > now, ApiToken.expires_at <= horizon),
        BY_EXPIRY, _expiry_key, remind, lock=False)


def expire_tokens(core: Core, account_id: int, policy: AccountSettings) -> int:
    now = core.clock()

    def expire(session: Session, token: ApiToken) -> bool:
        set_token_active(session, core, scheduler(account_id), token, False,
                         "its removal date has passed")
        enqueue(session, core, account_id, messages.token_event(
            token, "expired", "expired", "has expired and was deactivated",
            token.expires_at), holder_and_provisioners(session, token))
        close_live_request(session, core, token, RequestState.EXPIRED)
        return True

    return each_in_batches(core, select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.active.is_(True),
        ApiToken.expires_at <= now), BY_EXPIRY, _expiry_key, expire)


def delete_expired_after_grace(core: Core, account_id: int, policy: AccountSettings) -> int:
    cutoff = core.clock() - timedelta(days=policy.expiry_grace_days)

    def remove(session: Session, token: ApiToken) -> bool:
        delete_token(session, core, token,
                     f"expired more than {policy.expiry_grace_days} days ago")
        return True

    return each_in_batches(core, select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.active.is_(False),
        ApiToken.expires_at <= cutoff), BY_EXPIRY, _expiry_key, remove)
