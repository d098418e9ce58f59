"""RetrieveDelivery: open a one-time link. The secret is decrypted, handed over once, and its
ciphertext destroyed in the same transaction; a second visit learns when that happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import delivery
from tokenry.domain.access_requests import RequestState
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict, NotFound
from tokenry.domain.timefmt import iso
from tokenry.operations._common import audit
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, ApiToken, Delivery, OAuthClient, User
from tokenry.storage.queries import account_settings, instance_identity, matches


@dataclass(frozen=True)
class DeliveryStatus:
    state: str  # ready | retrieved | expired | replaced
    expires_at: datetime
    retrieved_at: datetime | None
    request_id: int | None
    instance: str = ""  # the account's display name, so the page says which instance it is
    holds: str = "api_token"  # or client_secret: an integration's

    @property
    def noun(self) -> str:
        return "API token" if self.holds == "api_token" else "integration's client secret"


@dataclass(frozen=True)
class Retrieved:
    """The secret behind a link: an API token's, or an integration client's (with the
    client's identifier, which the holder needs beside it)."""

    secret: str
    token_id: int | None
    request_id: int | None
    oauth_client_id: int | None = None
    client_identifier: str | None = None

    def __repr__(self) -> str:
        return f"Retrieved(token_id={self.token_id}, oauth_client_id={self.oauth_client_id})"


def _find(core: Core, session: Session, link_secret: str, lock: bool) -> Delivery:
    query = select(Delivery).where(
        matches(Delivery.link_hash, delivery.link_hashes(core.keyring, link_secret)))
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound("This delivery link is not valid.")
    return found


def _state(found: Delivery, now: datetime) -> str:
    if found.retrieved_at is not None:
        return "retrieved"
    if found.replaced_at is not None:
        return "replaced"
    return "expired" if found.lapsed_at is not None or found.expires_at <= now else "ready"


def _schedule_retirement_of_extended(session: Session, request: AccessRequest,
                                     now: datetime) -> None:
    """An extension's new token is in hand: the old token retires after the grace period."""
    if request.extends_request_id is None:
        return
    old = session.get(AccessRequest, request.extends_request_id)
    token = session.get(ApiToken, old.token_id, with_for_update=True) \
        if old and old.token_id else None
    if token is not None and token.retire_at is None:
        grace = account_settings(session, request.account_id).extension_grace_hours
        token.retire_at = now + timedelta(hours=grace)


def _refusal(found: Delivery, state: str) -> Conflict:
    if state == "retrieved":
        return Conflict(f"This link was already used at {iso(found.retrieved_at)}. "
                        "If that was not you, ask a provisioner to deactivate what it "
                        "delivered.")
    if state == "replaced":
        return Conflict(f"This link was replaced by a newer one at {iso(found.replaced_at)}; "
                        "use the link in your latest message.")
    return Conflict(f"This link expired at {iso(found.expires_at)} without being opened.")


def delivery_status(core: Core, link_secret: str) -> DeliveryStatus:
    with core.db.read() as session:
        found = _find(core, session, link_secret, lock=False)
        name, _ = instance_identity(session, found.account_id, core.settings.base_url)
        return DeliveryStatus(_state(found, core.clock()), found.expires_at, found.retrieved_at,
                              found.access_request_id, name,
                              "api_token" if found.oauth_client_id is None else "client_secret")


def retrieve_delivery(core: Core, link_secret: str, *, ip: str | None,
                      user_agent: str | None) -> Retrieved:
    now = core.clock()
    with core.db.transaction() as session:
        found = _find(core, session, link_secret, lock=True)
        state = _state(found, now)
        recipient = session.get(User, found.recipient_id)
        actor = Actor(account_id=found.account_id, user_id=None, via="link", credential="link",
                      ip=ip,
                      user_agent=user_agent,
                      label=f"{recipient.email if recipient else 'recipient'} (delivery link)")
        token = session.get(ApiToken, found.token_id) if found.token_id else None
        client = session.get(OAuthClient, found.oauth_client_id) \
            if found.oauth_client_id else None
        where = ip or "unknown address"
        label = (token.display if token else f"OAuth client {client.identifier}" if client
                 else str(found.token_id or found.oauth_client_id))

        def record(action: str, description: str) -> None:
            audit(session, core, actor, action=action, source_type=SourceType.DELIVERY,
                  source_id=found.id, description=description, source_label=label)

        if state != "ready":
            # A second use of a one-time link may mean it was intercepted: the attempt is
            # recorded (this transaction commits) and refused once it has.
            record(Action.RETRIEVE_REFUSED, f"Refused to open a {state} link from {where}")
            secret = None
        else:
            secret = _open(core, session, found, link_secret, now, ip)
            record(Action.RETRIEVE, f"Delivery link opened from {where}")
    if secret is None:
        raise _refusal(found, state)
    return Retrieved(secret=secret, token_id=found.token_id, request_id=found.access_request_id,
                     oauth_client_id=found.oauth_client_id,
                     client_identifier=client.identifier if client else None)


def _open(core: Core, session: Session, found: Delivery, link_secret: str, now: datetime,
          ip: str | None) -> str:
    """Decrypt, destroy the ciphertext, and move the request on to ``delivered``."""
    secret = delivery.unseal_made_by(core.keyring, found.key_id, link_secret,
                                     found.ciphertext or "")
    if secret is None:
        raise Conflict("This delivery cannot be opened: the server's keyring no longer holds "
                       "the key it was sealed with.")
    found.ciphertext, found.retrieved_at, found.retrieved_ip = None, now, ip
    if found.access_request_id is not None:
        request = session.get(AccessRequest, found.access_request_id, with_for_update=True)
        if request is not None and request.state == RequestState.ISSUED:
            request.state, request.updated_at = RequestState.DELIVERED, now
            _schedule_retirement_of_extended(session, request, now)
    return secret
