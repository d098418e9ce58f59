"""What the access-request use cases share: loading, links, people, notifications."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.auth.cache import MISSING
from tokenry.core import Core
from tokenry.domain.access_requests import RequestState
from tokenry.domain.audit import SourceType
from tokenry.domain.errors import NotFound
from tokenry.notify.outbox import Message, enqueue
from tokenry.operations._common import audit
from tokenry.operations.context import Actor
from tokenry.storage.models import AccessRequest, User
from tokenry.storage.queries import instance_identity


def base_url(core: Core, account_id: int) -> str:
    """The account's own base URL (``base_url`` setting), else ``TOKENRY_BASE_URL``.

    Kept in the verification cache, which every settings change clears."""
    key = ("instance-base-url", account_id)
    found = core.cache.get(key)
    if found is MISSING:
        with core.db.read() as session:
            found = instance_identity(session, account_id, core.settings.base_url)[1]
        core.cache.put(key, found)
    return str(found)


def request_link(core: Core, account_id: int, request_id: int) -> str:
    return f"{base_url(core, account_id)}/requests/{request_id}"


def link_of(core: Core, request: AccessRequest) -> str:
    """The request's stable link, on its account's base URL."""
    return request_link(core, request.account_id, request.id)


def find_request(session: Session, account_id: int, request_id: int, *,
                 lock: bool = False) -> AccessRequest:
    query = select(AccessRequest).where(AccessRequest.id == request_id,
                                        AccessRequest.account_id == account_id)
    request = session.scalar(query.with_for_update() if lock else query)
    if request is None:
        raise NotFound(f"There is no access request with id {request_id}.")
    return request


def user(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


def provisioners(session: Session, account_id: int) -> list[User]:
    return list(session.scalars(select(User).where(
        User.account_id == account_id, User.provisioner.is_(True), User.suspended.is_(False))))


def deciders(session: Session, request: AccessRequest) -> list[User | None]:
    """Who can make the decision a pending request waits for: the requester's manager, then
    the provisioners who are not the requester, the holder or the approving manager."""
    if request.state == RequestState.SUBMITTED:
        requester = user(session, request.requester_id)
        return [user(session, requester.manager_id) if requester else None]
    return [p for p in provisioners(session, request.account_id)
            if p.id not in (request.requester_id, request.holder_id, request.manager_id)]


def notify(session: Session, core: Core, request: AccessRequest, message: Message,
           recipients: list[User | None]) -> None:
    enqueue(session, core, request.account_id, message, [u for u in recipients if u])


def audit_request(session: Session, core: Core, actor: Actor, request: AccessRequest,
                  action: str, description: str, **changes: object) -> None:
    audit(session, core, actor, action=action, source_type=SourceType.ACCESS_REQUEST,
          source_id=request.id, source_label=f"#{request.id} {request.service_name}",
          changes={k: v for k, v in changes.items()}, description=description)
