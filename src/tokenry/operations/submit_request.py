"""SubmitAccessRequest: a verified user asks for an admin API token, for someone, until a date."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from tokenry.core import Core
from tokenry.domain.access_requests import (
    LIVE,
    RequestState,
    check_holder,
    validate_submission,
)
from tokenry.domain.audit import Action
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.users import may_sign_in
from tokenry.notify import messages
from tokenry.operations._common import acting_user
from tokenry.operations._requests import (
    audit_request,
    find_request,
    notify,
    request_link,
    user,
)
from tokenry.operations.context import Actor
from tokenry.operations.users import find_user
from tokenry.storage.models import AccessRequest
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


def submit_request(core: Core, actor: Actor, submission: Submission) -> AccessRequest:
    now = core.clock()
    with core.db.transaction() as session:
        requester = acting_user(session, actor)
        if requester is None:
            raise Forbidden("Access requests are filed by people, not by the system.")
        policy = account_settings(session, actor.account_id)
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
            created_at=now, updated_at=now)
        session.add(request)
        session.flush()
        audit_request(session, core, actor, request, Action.SUBMIT,
                      f"Submitted request #{request.id} for {holder.email} until {removal}",
                      state=[None, request.state], removal_date=[None, removal.isoformat()])
        notify(session, core, request,
               messages.submitted(request, request_link(core, request.id), requester),
               [user(session, requester.manager_id)])
    return request
