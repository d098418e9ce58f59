"""ResendDelivery: a provisioner re-issues the delivery of a token, or of an integration's
client secret, whose link lapsed or was lost.

The token or confidential client gets a new secret (the old one stops working at once), every
unused link of the request dies, and a new sealed link goes to the holder alone, in one
audited transaction. A token or client that was switched off because its link lapsed unread
comes back, and its request is issued again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import oauth, token_format
from tokenry.domain.access_requests import LIVE, RequestKind, RequestState, check_provisioner
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict, Forbidden
from tokenry.domain.tokens import is_usable
from tokenry.notify.outbox import has_private_channel
from tokenry.operations._common import (
    acting_user,
    audit,
    require_proven_person,
    require_token_admin,
    set_token_active,
)
from tokenry.operations._delivery import send_sealed
from tokenry.operations._oauth import client_label, require_client_admin
from tokenry.operations._requests import audit_request, find_request, user
from tokenry.operations.client_lifecycle import set_client_active
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import set_new_secret
from tokenry.storage.models import AccessRequest, ApiToken, Delivery, OAuthClient


def resend_delivery(core: Core, actor: Actor, request_id: int) -> AccessRequest:
    require_proven_person(actor, "re-send a token's delivery")
    with core.db.transaction() as session:
        provisioner = acting_user(session, actor)
        if provisioner is None:
            raise Forbidden("Deliveries are re-sent by a provisioner, not by the system.")
        request = find_request(session, actor.account_id, request_id, lock=True)
        check_provisioner(actor_id=provisioner.id, is_provisioner=provisioner.provisioner,
                          requester_id=request.requester_id, holder_id=request.holder_id,
                          manager_id=request.manager_id)
        integration = request.kind == RequestKind.INTEGRATION
        if integration:
            require_client_admin(session, actor, "re-send an integration's delivery")
        else:
            require_token_admin(session, actor, "re-send a token's delivery")
        deliveries = list(session.scalars(select(Delivery).where(
            Delivery.access_request_id == request.id).with_for_update()))
        lapsed = request.state == RequestState.REVOKED and any(
            d.lapsed_at is not None for d in deliveries)
        if request.state not in LIVE and not lapsed:
            raise Conflict(f"This request is {request.state}; only an issued or delivered "
                           f"{'integration' if integration else 'token'}, or one whose link "
                           "expired unread, can be delivered again. File a new request "
                           "instead.")
        now = core.clock()
        renew = _renew_client if integration else _renew_token
        renewed = renew(session, core, actor, request)
        if not has_private_channel(session, core, request.account_id):
            raise Conflict("No private delivery channel is configured: set up e-mail or Slack "
                           "direct messages (slack_bot_token) first.")
        for old in deliveries:
            if old.retrieved_at is None and old.replaced_at is None:
                old.replaced_at, old.ciphertext = now, None
        old_state = request.state
        request.state, request.closed_at, request.updated_at = RequestState.ISSUED, None, now
        audit_request(session, core, actor, request, Action.RESEND,
                      f"Re-sent the delivery of request #{request.id}: {renewed.old_display} "
                      f"replaced by {renewed.new_display}", state=[old_state, request.state],
                      **{renewed.field: [renewed.old_display, renewed.new_display]})
        holder = user(session, request.holder_id)
        assert holder is not None
        send_sealed(session, core, request, renewed.secret, holder, token=renewed.token,
                    client=renewed.client)
    return request


@dataclass(frozen=True)
class _Renewed:
    secret: str
    field: str  # the request's audit ``changes`` key: "token" or "client_secret"
    old_display: str
    new_display: str
    token: ApiToken | None = None
    client: OAuthClient | None = None

    def __repr__(self) -> str:
        return f"_Renewed({self.new_display!r})"


def _renew_token(session: Session, core: Core, actor: Actor,
                 request: AccessRequest) -> _Renewed:
    """A new secret for the request's token (the old one dies at once), and the token back
    on if its link lapsed."""
    token = session.get(ApiToken, request.token_id, with_for_update=True) \
        if request.token_id else None
    now = core.clock()
    if token is None or not is_usable(active=True, expires_at=token.expires_at, now=now):
        raise Conflict("The token of this request is gone or past its removal date; file "
                       "a new request instead.")
    old_display = token.display
    new = token_format.generate(core.settings.token_prefix)
    token.secret_hash, token.key_id = core.hasher.stamp(new.secret)
    token.display, token.updated_at = new.display, now
    set_token_active(session, core, actor, token, True, "its delivery was re-sent")
    return _Renewed(new.secret, "token", old_display, new.display, token=token)


def _renew_client(session: Session, core: Core, actor: Actor,
                  request: AccessRequest) -> _Renewed:
    """A new secret for the request's client (the old one dies at once), and the client back
    on if its link lapsed."""
    client = session.get(OAuthClient, request.oauth_client_id, with_for_update=True) \
        if request.oauth_client_id else None
    if client is None or client.access_request_id != request.id or not is_usable(
            active=True, expires_at=client.expires_at, now=core.clock()):
        raise Conflict("The OAuth client of this request is gone, past its removal date or "
                       "now serves a later request; file a new request instead.")
    if client.kind != oauth.CONFIDENTIAL:
        raise Conflict("A public client has no secret to deliver: its identifier is all the "
                       "holder needs.")
    old_display = client.secret_display or ""
    secret = set_new_secret(core, client)
    client.updated_at = core.clock()
    audit(session, core, actor, action=Action.REGENERATE_SECRET,
          source_type=SourceType.OAUTH_CLIENT, source_id=client.id,
          source_label=client_label(client),
          changes={"secret": [old_display, client.secret_display]},
          description=f"Regenerated the secret of OAuth client {client_label(client)} to "
                      f"re-send the delivery of request #{request.id}")
    set_client_active(session, core, actor, client, True, "its delivery was re-sent")
    return _Renewed(secret, "client_secret", old_display, client.secret_display or "",
                    client=client)
