"""Removal dates: reminders before, deactivation at, deletion after the grace period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tokenry.core import Core
from tokenry.domain.access_requests import RequestState
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import (
    close_live_request,
    delete_token,
    holder_and_provisioners,
    scheduler,
)
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._common import set_token_active
from tokenry.storage.models import ApiToken


def send_expiry_reminders(core: Core, account_id: int, policy: AccountSettings) -> int:
    """One reminder per threshold (7 and 1 days by default); only the nearest one is due."""
    now, sent = core.clock(), 0
    with core.db.transaction() as session:
        tokens = session.scalars(select(ApiToken).where(
            ApiToken.account_id == account_id, ApiToken.active.is_(True),
            ApiToken.expires_at.is_not(None), ApiToken.expires_at > now))
        for token in tokens:
            assert token.expires_at is not None
            due = [d for d in policy.reminder_days if now >= token.expires_at - timedelta(days=d)]
            if not due:
                continue
            days = min(due)
            enqueue(session, core, account_id, messages.token_event(
                token, "expiring", f"expiring:{days}d",
                f"expires within {days} day{'s' if days > 1 else ''}", token.expires_at),
                holder_and_provisioners(session, token))
            sent += 1
    return sent


def expire_tokens(core: Core, account_id: int, policy: AccountSettings) -> int:
    now, count = core.clock(), 0
    with core.db.transaction() as session:
        tokens = session.scalars(select(ApiToken).where(
            ApiToken.account_id == account_id, ApiToken.active.is_(True),
            ApiToken.expires_at.is_not(None), ApiToken.expires_at <= now).with_for_update())
        for token in tokens:
            set_token_active(session, core, scheduler(account_id), token, False,
                             "its removal date has passed")
            enqueue(session, core, account_id, messages.token_event(
                token, "expired", "expired", "has expired and was deactivated",
                token.expires_at), holder_and_provisioners(session, token))
            close_live_request(session, core, token, RequestState.EXPIRED)
            count += 1
    return count


def delete_expired_after_grace(core: Core, account_id: int, policy: AccountSettings) -> int:
    cutoff = core.clock() - timedelta(days=policy.expiry_grace_days)
    with core.db.transaction() as session:
        tokens = list(session.scalars(select(ApiToken).where(
            ApiToken.account_id == account_id, ApiToken.active.is_(False),
            ApiToken.expires_at.is_not(None), ApiToken.expires_at <= cutoff).with_for_update()))
        for token in tokens:
            delete_token(session, core, token, f"expired more than "
                         f"{policy.expiry_grace_days} days ago")
    return len(tokens)

