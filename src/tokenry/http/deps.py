"""Dependencies: the core, the authenticated identity, and the actor for operations."""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from tokenry.auth.credentials import PasswordCredential, parse_authorization
from tokenry.auth.rate_limit import RATE_STATE, RateState
from tokenry.auth.records import Identity
from tokenry.auth.verifier import NeedsLookup
from tokenry.core import Core
from tokenry.domain import oauth
from tokenry.domain.accounts import subdomain_from_host
from tokenry.domain.errors import NotFound, RateLimited, Throttled, Unauthenticated
from tokenry.observe.metrics import Kind
from tokenry.operations.context import Actor

log = logging.getLogger("tokenry.auth")


def get_core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


# The dependencies that do no I/O are ``async``: FastAPI runs every plain ``def`` dependency on
# a worker thread, a hand-off that costs more than their work.
async def core_dependency(request: Request) -> Core:
    return get_core(request)


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
    """Check the Authorization header. A cache hit costs no thread hop and no I/O; a miss on
    PostgreSQL costs one query on the event loop."""
    core = get_core(request)
    metrics = core.metrics
    scope = request.scope
    source = client_ip(request)
    header, host, agent = _auth_headers(scope["headers"])
    try:
        core.throttle.check(source)
    except Throttled:
        metrics.refused(credential_kind(core, header), throttled=True)
        raise
    looked_up = False
    try:
        if header == AMBIGUOUS:
            raise Unauthenticated(AMBIGUOUS)
        subdomain = subdomain_from_host(host, core.settings.base_domain,
                                        core.settings.default_subdomain)
        try:
            identity = core.verifier.authenticate_header(subdomain, header, cached_only=True)
        except NeedsLookup as needed:
            # a miss, or this request was elected to verify a cached header again (the
            # others meanwhile keep being answered from memory). On PostgreSQL a miss is
            # read on the event loop; otherwise (SQLite, a password, a refresh, a token not
            # found there) in a worker thread, which also reloads a rotated keyring.
            looked_up = True
            metrics.cache_miss.inc()
            answer = None if needed.refresh else \
                await core.misses.authenticate_header(subdomain, header, needed)
            if answer is None:
                answer = await run_in_threadpool(partial(core.verifier.authenticate_header,
                                                         subdomain, header,
                                                         refresh=needed.refresh))
            identity = answer
    except (Unauthenticated, NotFound) as failure:
        await _count_failure(core, source, credential_kind(core, header), looked_up)
        log.info("authentication failed from %s: %s", source, failure.description)
        raise Unauthenticated(failure.description) from None
    if not looked_up:
        metrics.cache_hit.inc()
    if identity.oauth_token_id is not None:
        metrics.ok_oauth.inc()
    elif identity.token_id is not None:
        metrics.ok_api_token.inc()
    else:
        metrics.ok_password.inc()
    if core.shared is None:
        count_request(core, scope, identity)
    else:  # only with Redis does counting ever await (near an account's limit)
        await count_shared_request(core, scope, identity)
    if identity.oauth_token_id is not None:
        core.usage.record_oauth(identity.oauth_token_id, core.clock())
    elif identity.token_id is not None:
        route = scope.get("route")
        path = route.path if route is not None else scope["path"]
        core.usage.record(identity.account.id, identity.token_id, identity.user.id, source,
                          agent, f"{scope['method']} {path}", core.clock())
    return identity


def credential_kind(core: Core, header: str | None) -> Kind:
    """The kind of credential a refused header carried, for the metrics (not the hot path)."""
    credential = None if header == AMBIGUOUS else parse_authorization(header)
    if credential is None:
        return "none"
    if isinstance(credential, PasswordCredential):
        return "password"
    access = oauth.prefix_for(core.settings.token_prefix, oauth.ACCESS) + "_"
    return "oauth" if credential.secret.startswith(access) else "api_token"


async def _count_failure(core: Core, source: str, kind: Kind, looked_up: bool) -> None:
    metrics = core.metrics
    metrics.refused(kind)
    if kind != "none" and not looked_up:
        metrics.cache_hit.inc()  # refused from memory (a token already known to be unknown)
    await core.throttle.record_failure_async(source)
    try:
        core.throttle.check(source)
    except Throttled:  # this failure reached the limit: the source is throttled from now on
        metrics.throttled_sources.inc()


def count_request(core: Core, scope: Scope, identity: Identity) -> None:
    """The account's rate limit on this node; its state goes out in the response's headers
    (:mod:`tokenry.http.envelope`), the 429 included."""
    state = scope.setdefault("state", {})
    try:
        state[RATE_STATE] = core.rate_limit.hit(identity.account.id, identity.account.rate_limit)
    except RateLimited as limited:
        state[RATE_STATE] = RateState(identity.account.rate_limit, 0, limited.retry_after)
        raise


async def count_shared_request(core: Core, scope: Scope, identity: Identity) -> None:
    """:func:`count_request` across the installation (Redis)."""
    state = scope.setdefault("state", {})
    try:
        state[RATE_STATE] = await core.rate_limit.hit_shared(identity.account.id,
                                                             identity.account.rate_limit)
    except RateLimited as limited:
        state[RATE_STATE] = RateState(identity.account.rate_limit, 0, limited.retry_after)
        raise


CurrentIdentity = Annotated[Identity, Depends(authenticate)]


async def current_actor(request: Request, identity: CurrentIdentity) -> Actor:
    by_token = identity.token_id is not None or identity.oauth_token_id is not None
    credential = (f"token {identity.token_id}" if identity.token_id is not None
                  else f"oauth token {identity.oauth_token_id}" if by_token else "password")
    return Actor(account_id=identity.account.id, user_id=identity.user.id,
                 label=identity.user.email, via="api", ip=client_ip(request),
                 user_agent=request.headers.get("user-agent"), token_id=identity.token_id,
                 credential=credential, proves_person=identity.token_bound or not by_token,
                 scopes=identity.scopes, oauth_token_id=identity.oauth_token_id)


CurrentActor = Annotated[Actor, Depends(current_actor)]
CoreDep = Annotated[Core, Depends(core_dependency)]
