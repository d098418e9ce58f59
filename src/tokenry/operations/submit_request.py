"""SubmitAccessRequest: a verified user asks for an admin API token (scoped or not) or an OAuth
integration, for someone, until a date."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import (
    LIVE,
    RequestKind,
    RequestState,
    basic_auth_advice,
    check_holder,
    check_integrations,
    validate_asked,
    validate_submission,
)
from tokenry.domain.audit import Action
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.scopes import normalise
from tokenry.domain.users import Role, may_sign_in
from tokenry.notify import messages
from tokenry.operations._common import acting_user, require_proven_person
from tokenry.operations._requests import (
    audit_request,
    find_request,
    link_of,
    notify,
    user,
)
from tokenry.operations.context import Actor
from tokenry.operations.users import find_user
from tokenry.storage.models import AccessRequest, User
from tokenry.storage.queries import account_settings


@dataclass(frozen=True)
class Submission:
    service_name: str | None
    purpose: str | None
    use_case: str | None
    removal_date: date | None
    admin_required: bool = True
    admin_justification: str = ""
    for_email: str | None = None
    extends_request_id: int | None = None
    kind: str | None = None  # api_token (default) or integration
    scopes: list[str] | str | None = None
    client_kind: str | None = None  # integration: confidential (default) or public
    redirect_uris: list[str] | None = None


def submit_request(core: Core, actor: Actor, submission: Submission) -> AccessRequest:
    now = core.clock()
    with core.db.transaction() as session:
        requester = acting_user(session, actor)
        if requester is None:
            raise Forbidden("Access requests are filed by people, not by the system.")
        policy = account_settings(session, actor.account_id)
        if submission.extends_request_id is not None:
            submission = _extending(session, actor, submission)
        if submission.for_email and submission.for_email.strip().lower() != requester.email:
            require_proven_person(actor, "request a token for someone else")
        asked = validate_asked(submission.kind, submission.scopes, submission.client_kind,
                               submission.redirect_uris, ceiling=policy.scope_ceiling)
        if asked.kind == RequestKind.INTEGRATION:
            check_integrations(allowed=policy.integrations_allowed, bot=policy.integration_bot)
            # an integration's client acts as the Integration bot, an admin
            submission = replace(submission, admin_required=True)
        if not submission.admin_required:
            admins = session.scalars(select(User.email).where(
                User.account_id == actor.account_id, User.role == Role.ADMIN,
                User.suspended.is_(False)).order_by(User.id)).all()
            raise Invalid.field("admin_required", basic_auth_advice(
                password_access=policy.password_access, admins=list(admins)))
        removal = validate_submission(asdict(submission), today=now.date(),
                                      max_lifetime_days=policy.max_request_lifetime_days)
        holder = (find_user(session, actor.account_id, submission.for_email)
                  if submission.for_email else requester)
        check_holder(holder_id=holder.id, requester_manager_id=requester.manager_id,
                     holder_can_sign_in=may_sign_in(verified=holder.verified,
                                                    suspended=holder.suspended))
        if requester.manager_id is None:
            raise Invalid.field("manager", "you have no manager on record to approve this; "
                                "ask an admin to set one (tokenry users update --manager)")
        if submission.extends_request_id is not None:
            extended = find_request(session, actor.account_id, submission.extends_request_id)
            if extended.state not in LIVE or extended.holder_id != holder.id:
                raise Invalid.field("extends_request_id",
                                    "must name a live (issued or delivered) request of the "
                                    "same token holder")
        request = AccessRequest(
            account_id=actor.account_id, requester_id=requester.id, holder_id=holder.id,
            service_name=str(submission.service_name).strip()[:200],
            purpose=str(submission.purpose).strip(), use_case=str(submission.use_case).strip(),
            admin_required=submission.admin_required,
            admin_justification=submission.admin_justification.strip(), removal_date=removal,
            state=RequestState.SUBMITTED, extends_request_id=submission.extends_request_id,
            kind=asked.kind, scopes=asked.scopes, client_kind=asked.client_kind,
            redirect_uris=asked.redirect_uris, created_at=now, updated_at=now)
        session.add(request)
        session.flush()
        audit_request(session, core, actor, request, Action.SUBMIT,
                      f"Submitted {asked.kind.label} request #{request.id} for {holder.email} "
                      f"until {removal}", state=[None, request.state],
                      removal_date=[None, removal.isoformat()], kind=[None, asked.kind.value],
                      scopes=[None, asked.scopes])
        notify(session, core, request,
               messages.submitted(request, link_of(core, request), requester, holder),
               [user(session, requester.manager_id)])
    return request


def _extending(session: Session, actor: Actor, submission: Submission) -> Submission:
    """An extension copies the request it extends; only a new removal date is needed. What it
    asks for stays: changing a credential's kind or scopes is a new request, reviewed anew."""
    assert submission.extends_request_id is not None
    extended = find_request(session, actor.account_id, submission.extends_request_id)
    holder = user(session, extended.holder_id)
    for field, value in (("kind", submission.kind), ("client_kind", submission.client_kind),
                         ("redirect_uris", submission.redirect_uris)):
        if value and value != getattr(extended, field):
            raise Invalid.field(field, "an extension keeps what the extended request asked for; "
                                "file a new request to change it")
    if submission.scopes is not None and \
            normalise(submission.scopes, field="scopes") != extended.scopes:
        raise Invalid.field("scopes", "an extension keeps the extended request's scopes; file "
                            "a new request to change them")
    return replace(
        submission, kind=extended.kind, scopes=extended.scopes, client_kind=extended.client_kind,
        redirect_uris=extended.redirect_uris,
        service_name=submission.service_name or extended.service_name,
        purpose=submission.purpose or extended.purpose,
        use_case=submission.use_case or extended.use_case,
        admin_justification=submission.admin_justification or extended.admin_justification,
        for_email=submission.for_email or (holder.email if holder else None))
