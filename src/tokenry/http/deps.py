"""Dependencies: the core, the authenticated identity, and the actor for operations."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from tokenry.auth.rate_limit import RATE_STATE, RateState
from tokenry.auth.records import Identity
from tokenry.auth.verifier import NeedsLookup
from tokenry.core import Core
from tokenry.domain.accounts import subdomain_from_host
from tokenry.domain.errors import NotFound, RateLimited, Unauthenticated
from tokenry.operations.context import Actor

log = logging.getLogger("tokenry.auth")


def get_core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


def client_ip(request: Request) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


AMBIGUOUS = "ambiguous: several Authorization headers"


def _auth_headers(raw: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str]:
    """Authorization, Host and User-Agent in one pass over the raw ASGI headers."""
    authorization = host = None
    agent = ""
    for name, value in raw:
        if name == b"authorization":
            if authorization is not None:
                # Two credentials on one request: which one a proxy checked and which one
                # we would use could differ, so neither is believed.
                return AMBIGUOUS, host, agent
            authorization = value.decode("latin-1")
        elif name == b"host":
            host = value.decode("latin-1")
        elif name == b"user-agent":
            agent = value.decode("latin-1")
    return authorization, host, agent


async def authenticate(request: Request) -> Identity:
    """Check the Authorization header. A cache hit costs no thread hop and no I/O."""
    core = get_core(request)
    scope = request.scope
    source = client_ip(request)
    core.throttle.check(source)
    header, host, agent = _auth_headers(scope["headers"])
    try:
        if header == AMBIGUOUS:
            raise Unauthenticated(AMBIGUOUS)
        subdomain = subdomain_from_host(host, core.settings.base_domain,
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
    count_request(core, scope, identity)
    if identity.oauth_token_id is not None:
        core.usage.record_oauth(identity.oauth_token_id, core.clock())
    elif identity.token_id is not None:
        route = scope.get("route")
        path = route.path if route is not None else scope["path"]
        core.usage.record(identity.account.id, identity.token_id, identity.user.id, source,
                          agent, f"{scope['method']} {path}", core.clock())
    return identity


def count_request(core: Core, scope: Scope, identity: Identity) -> None:
    """The account's rate limit; its state goes out in the response's headers
    (``RateLimitHeadersMiddleware``), the 429 included."""
    state = scope.setdefault("state", {})
    try:
        state[RATE_STATE] = core.rate_limit.hit(identity.account.id, identity.account.rate_limit)
    except RateLimited as limited:
        state[RATE_STATE] = RateState(identity.account.rate_limit, 0, limited.retry_after)
        raise


CurrentIdentity = Annotated[Identity, Depends(authenticate)]


def current_actor(request: Request, identity: CurrentIdentity) -> Actor:
    by_token = identity.token_id is not None or identity.oauth_token_id is not None
    credential = (f"token {identity.token_id}" if identity.token_id is not None
                  else f"oauth token {identity.oauth_token_id}" if by_token else "password")
    return Actor(account_id=identity.account.id, user_id=identity.user.id,
                 label=identity.user.email, via="api", ip=client_ip(request),
                 user_agent=request.headers.get("user-agent"), token_id=identity.token_id,
                 credential=credential, proves_person=identity.token_bound or not by_token,
                 scopes=identity.scopes, oauth_token_id=identity.oauth_token_id)


CurrentActor = Annotated[Actor, Depends(current_actor)]
CoreDep = Annotated[Core, Depends(get_core)]
