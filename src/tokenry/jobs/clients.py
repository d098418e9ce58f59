"""Removal dates of integrations' OAuth clients, as for tokens: reminders before, switch-off
at, deletion after the grace period.

A client with no ``expires_at`` (one an admin made by hand) is never touched here. An
extension moves a client's ``expires_at``; the reminders are keyed by that date, so the new
date is warned of again, and a rerun adds nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tokenry.core import Core
from tokenry.domain.access_requests import RequestState
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import (
    client_holder_and_provisioners,
    close_live_request,
    delete_client,
    scheduler,
)
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations.client_lifecycle import set_client_active
from tokenry.storage.models import OAuthClient


def send_client_expiry_reminders(core: Core, account_id: int, policy: AccountSettings) -> int:
    """One reminder per threshold (``reminder_days``); only the nearest one is due."""
    now, sent = core.clock(), 0
    with core.db.transaction() as session:
        clients = session.scalars(select(OAuthClient).where(
            OAuthClient.account_id == account_id, OAuthClient.active.is_(True),
            OAuthClient.expires_at.is_not(None), OAuthClient.expires_at > now))
        for client in clients:
            assert client.expires_at is not None
            due = [d for d in policy.reminder_days
                   if now >= client.expires_at - timedelta(days=d)]
            if not due:
                continue
            days = min(due)
            enqueue(session, core, account_id, messages.client_event(
                client, "expiring", f"expiring:{days}d",
                f"stops working within {days} day{'s' if days > 1 else ''}, at its removal "
                "date", client.expires_at), client_holder_and_provisioners(session, client))
            sent += 1
    return sent


def expire_clients(core: Core, account_id: int, policy: AccountSettings) -> int:
    """Past its removal date: switched off (its tokens revoked), its request closed as
    expired, and the holder and provisioners told."""
    now, count = core.clock(), 0
    with core.db.transaction() as session:
        clients = list(session.scalars(select(OAuthClient).where(
            OAuthClient.account_id == account_id, OAuthClient.active.is_(True),
            OAuthClient.expires_at.is_not(None), OAuthClient.expires_at <= now)
            .with_for_update()))
        for client in clients:
            set_client_active(session, core, scheduler(account_id), client, False,
                              "its removal date has passed")
            enqueue(session, core, account_id, messages.client_event(
                client, "expired", "expired", "has reached its removal date and was "
                "switched off; its tokens were revoked", client.expires_at),
                client_holder_and_provisioners(session, client))
            close_live_request(session, core, client, RequestState.EXPIRED)
            count += 1
    return count


def delete_expired_clients_after_grace(core: Core, account_id: int,
                                       policy: AccountSettings) -> int:
    cutoff = core.clock() - timedelta(days=policy.expiry_grace_days)
    with core.db.transaction() as session:
        clients = list(session.scalars(select(OAuthClient).where(
            OAuthClient.account_id == account_id, OAuthClient.active.is_(False),
            OAuthClient.expires_at.is_not(None), OAuthClient.expires_at <= cutoff)
            .with_for_update()))
        for client in clients:
            delete_client(session, core, client,
                          f"expired more than {policy.expiry_grace_days} days ago")
    return len(clients)
