"""ApproveAccessRequest: the manager's approval, then the provisioner's, which issues the token.

The provisioner's approval names the token by the standard, expires it at the end of the
removal date, binds it to the holder, and seals its secret behind a one-time link, all in
the transaction that records the decision: a request is never issued twice.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import naming
from tokenry.domain.access_requests import (
    RequestKind,
    RequestState,
    check_manager,
    check_provisioner,
    check_transition,
    expiry_of,
    stage_not_open,
)
from tokenry.domain.audit import Action
from tokenry.domain.errors import Conflict, Forbidden, Invalid, NotFound
from tokenry.domain.users import Role, may_sign_in
from tokenry.notify import messages
from tokenry.notify.outbox import has_private_channel
from tokenry.operations._common import acting_user, require_proven_person, require_token_admin
from tokenry.operations._delivery import send_sealed
from tokenry.operations._integration import issue_integration
from tokenry.operations._requests import (
    audit_request,
    deciders,
    find_request,
    link_of,
    notify,
    user,
)
from tokenry.operations.context import Actor
from tokenry.operations.create_token import issue_token
from tokenry.operations.users import find_user
from tokenry.storage.models import AccessRequest, User

STAGES = {"manager": RequestState.SUBMITTED, "provisioner": RequestState.MANAGER_APPROVED}


def approve_request(core: Core, actor: Actor, request_id: int,
                    stage: str | None = None, acts_as: str | None = None) -> AccessRequest:
    """``stage`` (manager or provisioner) says which decision the caller means to make, so a
    repeated or stale click gets 409 instead of being read as the next stage. ``acts_as``
    (provisioner stage) names the user the token acts as; the holder by default."""
    require_proven_person(actor, "approve an access request")
    with core.db.transaction() as session:
        approver = acting_user(session, actor)
        if approver is None:
            raise Forbidden("Approvals are made by people, not by the system.")
        if stage is not None and stage not in STAGES:
            raise Invalid.field("stage", f"use one of: {', '.join(STAGES)}")
        request = find_request(session, actor.account_id, request_id, lock=True)
        if stage is not None and STAGES[stage] != request.state:
            raise Conflict(stage_not_open(request.state, stage))
        requester = user(session, request.requester_id)
        assert requester is not None
        if request.state == RequestState.SUBMITTED:
            if acts_as:
                raise Invalid.field("acts_as", "who the token acts as is the provisioner's "
                                    "choice, at the provisioner stage")
            _approve_as_manager(session, core, actor, request, approver, requester)
        else:
            check_transition(request.state, RequestState.APPROVED)
            _approve_as_provisioner(session, core, actor, request, approver, requester,
                                    acts_as)
    return request


def _approve_as_manager(session: Session, core: Core, actor: Actor, request: AccessRequest,
                        approver: User, requester: User) -> None:
    check_manager(actor_id=approver.id, requester_id=request.requester_id,
                  holder_id=request.holder_id, requester_manager_id=requester.manager_id)
    check_transition(request.state, RequestState.MANAGER_APPROVED)
    now = core.clock()
    request.state = RequestState.MANAGER_APPROVED
    request.manager_id, request.manager_decided_at, request.updated_at = approver.id, now, now
    audit_request(session, core, actor, request, Action.APPROVE,
                  f"Manager approved request #{request.id}",
                  state=[RequestState.SUBMITTED, request.state])
    holder = user(session, request.holder_id)
    assert holder is not None
    notify(session, core, request,
           messages.manager_approved(request, link_of(core, request), approver, holder),
           deciders(session, request))  # only provisioners who may decide are asked


def _approve_as_provisioner(session: Session, core: Core, actor: Actor, request: AccessRequest,
                            approver: User, requester: User, acts_as: str | None) -> None:
    check_provisioner(actor_id=approver.id, is_provisioner=approver.provisioner,
                      requester_id=request.requester_id, holder_id=request.holder_id,
                      manager_id=request.manager_id)
    holder = user(session, request.holder_id)
    assert holder is not None
    now = core.clock()
    request.state = RequestState.ISSUED
    request.provisioner_id, request.provisioner_decided_at = approver.id, now
    request.updated_at = now

    def announce(detail: str = "") -> None:  # told before the delivery that follows it
        notify(session, core, request, messages.decided(request, link_of(core, request),
                                                        "approved", detail),
               [requester, holder if holder.id != requester.id else None])

    if request.kind == RequestKind.INTEGRATION:
        if acts_as:
            raise Invalid.field("acts_as", "an integration's client acts as the account's "
                                "Integration bot")
        issue_integration(session, core, actor, request, holder, announce)
    else:
        _issue_token(session, core, actor, request, holder, acts_as, announce)


def _issue_token(session: Session, core: Core, actor: Actor, request: AccessRequest,
                 holder: User, acts_as: str | None, announce: Callable[[str], None]) -> None:
    require_token_admin(session, actor, "issue API tokens")
    if not has_private_channel(session, core, request.account_id):
        raise Conflict("No private delivery channel is configured, so nobody could receive "
                       "the token. Set up e-mail (TOKENRY_SMTP_HOST, with the account's "
                       "notify_email on) or Slack direct messages (the account's "
                       "slack_bot_token), then approve again.")
    acting_as = _acting_as(session, request, holder, acts_as)
    link = link_of(core, request)
    created = issue_token(session, core, actor,
                          description=naming.request_name(holder.name, link, request.removal_date),
                          expires_at=expiry_of(request.removal_date), user_id=acting_as.id,
                          kind="request", access_request_id=request.id, scopes=request.scopes)
    request.acts_as_id = acting_as.id if acting_as.id != holder.id else None
    request.token_id = created.token.id
    audit_request(session, core, actor, request, Action.APPROVE,
                  f"Provisioner approved request #{request.id}; issued {created.token.display}",
                  state=[RequestState.MANAGER_APPROVED, request.state],
                  token_id=[None, created.token.id])
    announce("")
    send_sealed(session, core, request, created.secret, holder, token=created.token)


def _acting_as(session: Session, request: AccessRequest, holder: User,
               acts_as: str | None) -> User:
    """Who the token acts as; an admin whenever the request was approved as needing one."""
    chosen = holder
    if acts_as:
        try:
            chosen = find_user(session, request.account_id, acts_as)
        except NotFound:
            raise Invalid.field("acts_as", f"there is no user {acts_as!r} in this account") \
                from None
        if not may_sign_in(verified=chosen.verified, suspended=chosen.suspended):
            raise Invalid.field("acts_as", f"{chosen.email} is suspended or not verified")
    if request.admin_required and chosen.role != Role.ADMIN:
        raise Conflict(
            f"The token would act as {chosen.email}, who is not an admin, so it would lack the "
            "admin rights this request was approved for. Pick an admin service user with "
            f"acts_as, or have an account admin make {chosen.email} an admin first.")
    return chosen
