"""Removal dates of integrations' OAuth clients, as for tokens: reminders before, switch-off
at, deletion after the grace period.

A client with no ``expires_at`` (one an admin made by hand) is never touched here. An
extension moves a client's ``expires_at``; the reminders are keyed by that date, so the new
date is warned of again, and a rerun adds nothing.
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
    client_holder_and_provisioners,
    close_live_request,
    delete_client,
    scheduler,
)
from tokenry.jobs.batches import each_in_batches
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations.client_lifecycle import set_client_active
from tokenry.storage.models import OAuthClient

BY_EXPIRY = (OAuthClient.expires_at, OAuthClient.id)


def _expiry_key(client: OAuthClient) -> tuple[Any, ...]:
    return client.expires_at, client.id


def send_client_expiry_reminders(core: Core, account_id: int, policy: AccountSettings) -> int:
    """One reminder per threshold (``reminder_days``); only the nearest one is due."""
    if not policy.reminder_days:
        return 0
    now = core.clock()
    horizon = now + timedelta(days=max(policy.reminder_days))

    def remind(session: Session, client: OAuthClient) -> bool:
        assert client.expires_at is not None
        due = [d for d in policy.reminder_days if now >= client.expires_at - timedelta(days=d)]
        if not due:
            return False
        days = min(due)
        enqueue(session, core, account_id, messages.client_event(
            client, "expiring", f"expiring:{days}d",
            f"stops working within {days} day{'s' if days > 1 else ''}, at its removal "
            "date", client.expires_at), client_holder_and_provisioners(session, client))
        return True

    return each_in_batches(core, select(OAuthClient).where(
        OAuthClient.account_id == account_id, OAuthClient.active.is_(True),
        OAuthClient.expires_at > now, OAuthClient.expires_at <= horizon),
        BY_EXPIRY, _expiry_key, remind, lock=False)


def expire_clients(core: Core, account_id: int, policy: AccountSettings) -> int:
    """Past its removal date: switched off (its tokens revoked), its request closed as
    expired, and the holder and provisioners told."""
    now = core.clock()

    def expire(session: Session, client: OAuthClient) -> bool:
        set_client_active(session, core, scheduler(account_id), client, False,
                          "its removal date has passed")
        enqueue(session, core, account_id, messages.client_event(
            client, "expired", "expired", "has reached its removal date and was "
            "switched off; its tokens were revoked", client.expires_at),
            client_holder_and_provisioners(session, client))
        close_live_request(session, core, client, RequestState.EXPIRED)
        return True

    return each_in_batches(core, select(OAuthClient).where(
        OAuthClient.account_id == account_id, OAuthClient.active.is_(True),
        OAuthClient.expires_at <= now), BY_EXPIRY, _expiry_key, expire)


def delete_expired_clients_after_grace(core: Core, account_id: int,
                                       policy: AccountSettings) -> int:
    cutoff = core.clock() - timedelta(days=policy.expiry_grace_days)

    def remove(session: Session, client: OAuthClient) -> bool:
        delete_client(session, core, client,
                      f"expired more than {policy.expiry_grace_days} days ago")
        return True

    return each_in_batches(core, select(OAuthClient).where(
        OAuthClient.account_id == account_id, OAuthClient.active.is_(False),
        OAuthClient.expires_at <= cutoff), BY_EXPIRY, _expiry_key, remove)
