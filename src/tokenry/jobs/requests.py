"""Request housekeeping: stale requests, unread delivery links, tokens replaced by extensions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import PENDING, STALE_REASON, RequestState
from tokenry.domain.audit import Action
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import close_live_request, delete_token, scheduler
from tokenry.jobs.batches import delete_in_batches, each_in_batches
from tokenry.notify import messages
from tokenry.operations._common import set_token_active
from tokenry.operations._requests import (
    audit_request,
    link_of,
    notify,
    provisioners,
    user,
)
from tokenry.operations.client_lifecycle import set_client_active
from tokenry.operations.deny_request import close
from tokenry.storage.models import (
    AccessRequest,
    ApiToken,
    Delivery,
    Notification,
    OAuthClient,
)


def close_stale_requests(core: Core, account_id: int, policy: AccountSettings) -> int:
    cutoff = core.clock() - timedelta(days=policy.pending_request_max_age_days)
    actor = scheduler(account_id)

    def close_stale(session: Session, request: AccessRequest) -> bool:
        close(core, actor, request, RequestState.DENIED, STALE_REASON)
        audit_request(session, core, actor, request, Action.DENY,
                      f"Closed request #{request.id}: {STALE_REASON}",
                      reason=[None, STALE_REASON])
        notify(session, core, request, messages.decided(
            request, link_of(core, request), "denied", STALE_REASON),
            [user(session, request.requester_id)])
        return True

    return each_in_batches(core, select(AccessRequest).where(
        AccessRequest.account_id == account_id, AccessRequest.state.in_(PENDING),
        AccessRequest.created_at <= cutoff), (AccessRequest.id,), lambda r: (r.id,),
        close_stale)


def lapse_unread_deliveries(core: Core, account_id: int, policy: AccountSettings) -> int:
    """A link nobody opened in time: destroy the secret, switch off the token or client it
    delivered, close its request as revoked, tell people."""
    now = core.clock()

    def lapse(session: Session, found: Delivery) -> bool:
        found.lapsed_at, found.ciphertext = now, None
        switched_off = _switch_off_delivered(session, core, found)
        if switched_off is None:
            return True
        what, data = switched_off
        request = session.get(AccessRequest, found.access_request_id) \
            if found.access_request_id else None
        if request is not None:
            notify(session, core, request, messages.delivery_lapsed(
                request, link_of(core, request), what, found.id, data),
                [*provisioners(session, account_id), user(session, request.requester_id)])
        return True

    return each_in_batches(core, select(Delivery).where(
        Delivery.account_id == account_id, Delivery.retrieved_at.is_(None),
        Delivery.lapsed_at.is_(None), Delivery.replaced_at.is_(None),
        Delivery.expires_at <= now), (Delivery.expires_at, Delivery.id),
        lambda d: (d.expires_at, d.id), lapse)


def _switch_off_delivered(session: Session, core: Core,
                          found: Delivery) -> tuple[str, dict[str, object]] | None:
    """Switch off what ``found`` delivered and close its request; say what it was."""
    actor, why = scheduler(found.account_id), "its delivery link expired unread"
    if found.oauth_client_id is not None:
        client = session.get(OAuthClient, found.oauth_client_id, with_for_update=True)
        if client is None:
            return None
        set_client_active(session, core, actor, client, False, why)
        close_live_request(session, core, client, RequestState.REVOKED)
        return (f"OAuth client {client.identifier}",
                {"oauth_client_id": client.id, "identifier": client.identifier})
    token = session.get(ApiToken, found.token_id, with_for_update=True) \
        if found.token_id is not None else None
    if token is None:
        return None
    set_token_active(session, core, actor, token, False, why)
    close_live_request(session, core, token, RequestState.REVOKED)
    return f"token {token.display}", {"token_id": token.id}


def retire_extended_tokens(core: Core, account_id: int, policy: AccountSettings) -> int:
    """An extension's new token was delivered; after the grace period the old one goes."""
    now = core.clock()

    def retire(session: Session, token: ApiToken) -> bool:
        set_token_active(session, core, scheduler(account_id), token, False,
                         "replaced by an extension")
        close_live_request(session, core, token, RequestState.EXPIRED)
        delete_token(session, core, token, "replaced by an extension")
        return True

    return each_in_batches(core, select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.retire_at <= now),
        (ApiToken.retire_at, ApiToken.id), lambda t: (t.retire_at, t.id), retire)


NOTIFICATION_RETENTION = timedelta(days=30)


def purge_old_notifications(core: Core, account_id: int, policy: AccountSettings) -> int:
    """Sent and dead outbox rows are kept 30 days for inspection, then removed."""
    cutoff = core.clock() - NOTIFICATION_RETENTION
    return delete_in_batches(
        core, Notification, Notification.account_id == account_id,
        Notification.status.in_(("sent", "dead")), Notification.created_at <= cutoff)
