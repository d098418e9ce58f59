"""ResendDelivery: a provisioner re-issues the delivery of a token whose link lapsed or was lost.

The token gets a new secret (the old one stops working at once), every unused link to it dies,
and a new sealed link goes to the holder alone, in one audited transaction. A token that was
deactivated because its link lapsed unread comes back, and its request is issued again.
"""

from __future__ import annotations

from sqlalchemy import select

from tokenry.core import Core
from tokenry.domain import token_format
from tokenry.domain.access_requests import LIVE, RequestState, check_provisioner
from tokenry.domain.audit import Action
from tokenry.domain.errors import Conflict, Forbidden
from tokenry.domain.tokens import is_usable
from tokenry.notify.outbox import has_private_channel
from tokenry.operations._common import (
    acting_user,
    require_proven_person,
    require_token_admin,
    set_token_active,
)
from tokenry.operations._delivery import send_sealed
from tokenry.operations._requests import audit_request, find_request, user
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, ApiToken, Delivery


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
        require_token_admin(session, actor, "re-send a token's delivery")
        deliveries = list(session.scalars(select(Delivery).where(
            Delivery.access_request_id == request.id).with_for_update()))
        lapsed = request.state == RequestState.REVOKED and any(
            d.lapsed_at is not None for d in deliveries)
        if request.state not in LIVE and not lapsed:
            raise Conflict(f"This request is {request.state}; only an issued or delivered "
                           "token, or one whose link expired unread, can be delivered again. "
                           "File a new request instead.")
        token = session.get(ApiToken, request.token_id, with_for_update=True) \
            if request.token_id else None
        now = core.clock()
        if token is None or not is_usable(active=True, expires_at=token.expires_at, now=now):
            raise Conflict("The token of this request is gone or past its removal date; file "
                           "a new request instead.")
        if not has_private_channel(session, core, request.account_id):
            raise Conflict("No private delivery channel is configured: set up e-mail or Slack "
                           "direct messages (slack_bot_token) first.")
        for old in deliveries:
            if old.retrieved_at is None and old.replaced_at is None:
                old.replaced_at, old.ciphertext = now, None
        old_display = token.display
        new = token_format.generate(core.settings.token_prefix)
        token.secret_hash, token.display, token.updated_at = (
            core.hasher.hash(new.secret), new.display, now)
        set_token_active(session, core, actor, token, True, "its delivery was re-sent")
        old_state = request.state
        request.state, request.closed_at, request.updated_at = RequestState.ISSUED, None, now
        audit_request(session, core, actor, request, Action.RESEND,
                      f"Re-sent the delivery of request #{request.id}: {old_display} replaced "
                      f"by {new.display}", state=[old_state, request.state],
                      token=[old_display, new.display])
        holder = user(session, request.holder_id)
        assert holder is not None
        send_sealed(session, core, request, new.secret, holder, token=token)
    return request
