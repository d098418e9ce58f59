"""ListAccessRequests and ShowAccessRequest, with who may see what.

Admins and provisioners see every request of the account; anyone else sees the requests
they filed, that are for them, or that wait for them as the requester's manager.
``own_requests`` and ``waiting_for`` are the two lists of a person's requests page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import RequestState
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.users import Role
from tokenry.operations._common import acting_user
from tokenry.operations._requests import find_request
from tokenry.operations.context import Actor, EveryRow, Listed, Listing, Page, PageRequest
from tokenry.operations.paging import paginate
from tokenry.storage.models import AccessRequest, User


@dataclass(frozen=True, slots=True)
class RequestFilter:
    state: str | None = None
    mine: bool = False


def _sees_everything(session: Session, actor: Actor) -> tuple[bool, User | None]:
    viewer = acting_user(session, actor)
    return viewer is None or viewer.role == Role.ADMIN or viewer.provisioner, viewer


@overload
def list_requests(core: Core, actor: Actor, filters: RequestFilter,
                  page: PageRequest | EveryRow | None = None) -> Page[AccessRequest]: ...
@overload
def list_requests(core: Core, actor: Actor, filters: RequestFilter,
                  page: Listing) -> Listed[AccessRequest]: ...
def list_requests(core: Core, actor: Actor, filters: RequestFilter,
                  page: Listing | None = None) -> Listed[AccessRequest]:
    if filters.state is not None and filters.state not in set(RequestState):
        raise Invalid.field("state", f"unknown state; use one of: {', '.join(RequestState)}")
    with core.db.read() as session:
        everything, viewer = _sees_everything(session, actor)
        query = select(AccessRequest).where(AccessRequest.account_id == actor.account_id)
        if viewer is not None and (filters.mine or not everything):
            reports = select(User.id).where(User.manager_id == viewer.id)
            query = query.where(or_(AccessRequest.requester_id == viewer.id,
                                    AccessRequest.holder_id == viewer.id,
                                    AccessRequest.requester_id.in_(reports)))
        if filters.state:
            query = query.where(AccessRequest.state == filters.state)
        return paginate(session, query, page or PageRequest(), keys=[AccessRequest.id],
                        descending=True)


def own_requests(core: Core, actor: Actor,
                 page: PageRequest | None = None) -> Page[AccessRequest]:
    """The requests the actor filed or holds, newest first."""
    with core.db.read() as session:
        viewer = acting_user(session, actor)
        if viewer is None:
            return Page(items=[], count=0, request=page or PageRequest())
        query = select(AccessRequest).where(
            AccessRequest.account_id == actor.account_id,
            or_(AccessRequest.requester_id == viewer.id, AccessRequest.holder_id == viewer.id))
        return paginate(session, query, page or PageRequest(), keys=[AccessRequest.id],
                        descending=True)


def waiting_for(core: Core, actor: Actor) -> list[AccessRequest]:
    """The pending requests whose next decision is the actor's, oldest first: as the
    requester's manager at the first stage, as a provisioner at the second (never one's own,
    nor one they approved as the manager)."""
    with core.db.read() as session:
        viewer = acting_user(session, actor)
        if viewer is None:
            return []
        reports = select(User.id).where(User.manager_id == viewer.id)
        stages = [(AccessRequest.state == RequestState.SUBMITTED)
                  & AccessRequest.requester_id.in_(reports)]
        if viewer.provisioner:
            stages.append((AccessRequest.state == RequestState.MANAGER_APPROVED)
                          & (AccessRequest.manager_id.is_(None)
                             | (AccessRequest.manager_id != viewer.id)))
        query = select(AccessRequest).where(
            AccessRequest.account_id == actor.account_id, or_(*stages),
            AccessRequest.requester_id != viewer.id, AccessRequest.holder_id != viewer.id)
        return list(session.scalars(query.order_by(AccessRequest.id).limit(500)))


def show_request(core: Core, actor: Actor, request_id: int) -> AccessRequest:
    with core.db.read() as session:
        request = find_request(session, actor.account_id, request_id)
        check_may_see(session, actor, request)
        return request


def check_may_see(session: Session, actor: Actor, request: AccessRequest) -> None:
    everything, viewer = _sees_everything(session, actor)
    if everything or viewer is None:
        return
    requester = session.get(User, request.requester_id)
    involved = {request.requester_id, request.holder_id,
                requester.manager_id if requester else None}
    if viewer.id not in involved:
        raise Forbidden("You can only see requests you filed, that are for you, or that "
                        "wait for your approval.")

