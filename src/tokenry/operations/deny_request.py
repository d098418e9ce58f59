"""DenyAccessRequest and CancelAccessRequest: the two ways a pending request closes early."""

from __future__ import annotations

from tokenry.core import Core
from tokenry.domain.access_requests import (
    PENDING,
    RequestState,
    check_can_cancel,
    check_can_decide,
    check_transition,
    denial_message,
    validate_denial_reason,
)
from tokenry.domain.audit import Action
from tokenry.domain.errors import Forbidden
from tokenry.notify import messages
from tokenry.operations._common import acting_user, require_proven_person
from tokenry.operations._requests import audit_request, find_request, link_of, notify, user
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest


def deny_request(core: Core, actor: Actor, request_id: int, reason: str | None) -> AccessRequest:
    reason = validate_denial_reason(reason)
    require_proven_person(actor, "deny an access request")
    with core.db.transaction() as session:
        decider = acting_user(session, actor)
        if decider is None:
            raise Forbidden("Denials are made by people; the scheduler closes stale requests.")
        request = find_request(session, actor.account_id, request_id, lock=True)
        requester = user(session, request.requester_id)
        assert requester is not None
        if request.state in PENDING:
            check_can_decide(actor_id=decider.id, state=request.state,
                             requester_id=request.requester_id, holder_id=request.holder_id,
                             requester_manager_id=requester.manager_id,
                             manager_id=request.manager_id, is_provisioner=decider.provisioner)
        elif not (decider.provisioner or decider.id == requester.manager_id):
            raise Forbidden("Only the requester's manager or a provisioner decides requests.")
        check_transition(request.state, RequestState.DENIED)
        close(core, actor, request, RequestState.DENIED, reason)
        session.flush()
        audit_request(session, core, actor, request, Action.DENY,
                      f"Denied request #{request.id}: {reason}", reason=[None, reason])
        notify(session, core, request, messages.decided(
            request, link_of(core, request), "denied", denial_message(reason)),
            [requester])
    return request


def cancel_request(core: Core, actor: Actor, request_id: int) -> AccessRequest:
    require_proven_person(actor, "cancel an access request")
    with core.db.transaction() as session:
        canceller = acting_user(session, actor)
        request = find_request(session, actor.account_id, request_id, lock=True)
        check_can_cancel(actor_id=canceller.id if canceller else -1,
                         requester_id=request.requester_id, holder_id=request.holder_id)
        check_transition(request.state, RequestState.CANCELLED)
        close(core, actor, request, RequestState.CANCELLED, None)
        audit_request(session, core, actor, request, Action.CANCEL,
                      f"Cancelled request #{request.id}")
        notify(session, core, request, messages.decided(
            request, link_of(core, request), "cancelled"),
            [user(session, request.requester_id)])
    return request


def close(core: Core, actor: Actor, request: AccessRequest, state: RequestState,
          reason: str | None) -> None:
    """Move a request to a final state (shared with the scheduler's jobs)."""
    now = core.clock()
    request.state = state
    request.denial_reason = reason
    request.denied_by_id = actor.user_id if state == RequestState.DENIED else None
    request.closed_at = request.updated_at = now
