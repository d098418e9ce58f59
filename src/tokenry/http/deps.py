"""Dependencies: the core, the authenticated identity, and the actor for operations."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from tokenry.auth.records import Identity
from tokenry.auth.verifier import NeedsLookup
from tokenry.core import Core
from tokenry.domain.accounts import subdomain_from_host
from tokenry.domain.errors import NotFound, Unauthenticated
from tokenry.operations.context import Actor

log = logging.getLogger("tokenry.auth")


def get_core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def authenticate(request: Request) -> Identity:
    """Check the Authorization header. A cache hit costs no thread hop and no I/O."""
    core = get_core(request)
    source = client_ip(request)
    core.throttle.check(source)
    headers = request.headers
    header = headers.get("authorization")
    try:
        subdomain = subdomain_from_host(headers.get("host"), core.settings.base_domain,
                                        core.settings.default_subdomain)
        try:
            identity = core.verifier.authenticate_header(subdomain, header, cached_only=True)
        except NeedsLookup:
            identity = await run_in_threadpool(core.verifier.authenticate_header, subdomain,
                                               header)
    except (Unauthenticated, NotFound) as failure:
        core.throttle.record_failure(source)
        log.info("authentication failed from %s: %s", source, failure.description)
        raise Unauthenticated(failure.description) from None
    if identity.token_id is not None:
        route = request.scope.get("route")
        path = route.path if route is not None else request.scope["path"]
        core.usage.record(
            account_id=identity.account.id, token_id=identity.token_id,
            user_id=identity.user.id, ip=source, user_agent=headers.get("user-agent", ""),
            endpoint=f"{request.method} {path}", now=core.clock(),
        )
    return identity


CurrentIdentity = Annotated[Identity, Depends(authenticate)]


def actor_for(request: Request, identity: Identity) -> Actor:
    return Actor(account_id=identity.account.id, user_id=identity.user.id,
                 label=identity.user.email, via="api", ip=client_ip(request),
                 user_agent=request.headers.get("user-agent"), token_id=identity.token_id)


def current_actor(request: Request, identity: CurrentIdentity) -> Actor:
    return actor_for(request, identity)


CurrentActor = Annotated[Actor, Depends(current_actor)]
CoreDep = Annotated[Core, Depends(get_core)]
