"""ShowRequestDetails: everything a reviewer needs about one request, for whoever may see it.

The people involved by name, the issued token (its display form only) or OAuth client (its
identifier, never its secret), the request's audit
history, and which decisions are open to the viewer now. Those come from the same domain
checks the approve, deny, cancel and resend operations apply, so a page never offers a
button the operation would refuse for who the viewer is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from tokenry.core import Core
from tokenry.domain import oauth
from tokenry.domain.access_requests import (
    LIVE,
    PENDING,
    RequestState,
    check_can_cancel,
    check_manager,
    check_provisioner,
)
from tokenry.domain.audit import SourceType
from tokenry.domain.errors import Forbidden
from tokenry.operations._common import acting_user
from tokenry.operations._requests import find_request
from tokenry.operations.context import Actor
from tokenry.operations.request_queries import check_may_see
from tokenry.storage.models import AccessRequest, ApiToken, AuditEvent, OAuthClient, User

Stage = Literal["manager", "provisioner"]


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    display: str
    active: bool
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedClient:
    id: int
    identifier: str
    active: bool
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RequestDetails:
    request: AccessRequest
    people: dict[int, Person]
    token: IssuedToken | None
    client: IssuedClient | None  # an integration's OAuth client, once issued
    history: list[AuditEvent]
    manager_id: int | None  # who approved as the manager, else who is asked to
    decides: Stage | None  # the decision the viewer may make now
    may_cancel: bool
    may_resend: bool

    def person(self, user_id: int | None) -> Person | None:
        return self.people.get(user_id) if user_id is not None else None


def request_details(core: Core, actor: Actor, request_id: int) -> RequestDetails:
    with core.db.read() as session:
        request = find_request(session, actor.account_id, request_id)
        check_may_see(session, actor, request)
        viewer = acting_user(session, actor)
        requester = session.get(User, request.requester_id)
        ids = {request.requester_id, request.holder_id, request.manager_id,
               request.provisioner_id, request.denied_by_id, request.acts_as_id,
               requester.manager_id if requester else None}
        people = {u.id: Person(u.name, u.email) for u in session.scalars(
            select(User).where(User.id.in_({i for i in ids if i is not None})))}
        token = session.get(ApiToken, request.token_id) if request.token_id else None
        client = session.get(OAuthClient, request.oauth_client_id) \
            if request.oauth_client_id else None
        history = list(session.scalars(select(AuditEvent).where(
            AuditEvent.account_id == actor.account_id,
            AuditEvent.source_type == SourceType.ACCESS_REQUEST,
            AuditEvent.source_id == request.id,
        ).order_by(AuditEvent.created_at, AuditEvent.id).limit(500)))
        decides = _decision_open_to(viewer, request, requester) if viewer else None
        may_cancel = viewer is not None and request.state in PENDING and _allowed(
            lambda: check_can_cancel(actor_id=viewer.id, requester_id=request.requester_id,
                                     holder_id=request.holder_id))
        # a token, or a confidential client's secret (a public client has none to send)
        may_resend = viewer is not None and (
            token is not None or (client is not None and client.kind == oauth.CONFIDENTIAL)
        ) and (request.state in LIVE or request.state == RequestState.REVOKED) and _provisions(
            viewer, request)
    issued = IssuedToken(token.display, token.active, token.expires_at) if token else None
    made = IssuedClient(client.id, client.identifier, client.active, client.expires_at) \
        if client else None
    manager_id = request.manager_id or (requester.manager_id if requester else None)
    return RequestDetails(request=request, people=people, token=issued, client=made,
                          history=history,
                          manager_id=manager_id, decides=decides, may_cancel=may_cancel,
                          may_resend=may_resend)


def _decision_open_to(viewer: User, request: AccessRequest,
                      requester: User | None) -> Stage | None:
    if request.state == RequestState.SUBMITTED and requester is not None and _allowed(
            lambda: check_manager(actor_id=viewer.id, requester_id=request.requester_id,
                                  holder_id=request.holder_id,
                                  requester_manager_id=requester.manager_id)):
        return "manager"
    if request.state == RequestState.MANAGER_APPROVED and _provisions(viewer, request):
        return "provisioner"
    return None


def _provisions(viewer: User, request: AccessRequest) -> bool:
    return _allowed(lambda: check_provisioner(
        actor_id=viewer.id, is_provisioner=viewer.provisioner,
        requester_id=request.requester_id, holder_id=request.holder_id,
        manager_id=request.manager_id))


def _allowed(check: Callable[[], None]) -> bool:
    try:
        check()
    except Forbidden:
        return False
    return True
