"""``TokenryMiddleware`` in front of a small Starlette app, against a real tokenry server over
HTTP. The remote calls are counted by a wrapper around httpx's real transport."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.conftest import ADMIN_EMAIL, basic, run_coroutine
from tests.live import free_port, live_server
from tokenry.asgi import TokenryIdentity, TokenryMiddleware, seconds_until
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.update_token import update_token


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, counting the requests that reach tokenry."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Service:
    """The app behind the middleware: it records every request it is handed."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.app = Starlette(routes=[Route("/{path:path}", self.whoami)])

    async def whoami(self, request: Request) -> JSONResponse:
        self.seen.append(request.url.path)
        return JSONResponse(asdict(request.state.tokenry))


@pytest.fixture
def tokenry_url(core: Core) -> Iterator[str]:
    with live_server(core) as url:
        yield url


@pytest.fixture
def service() -> Service:
    return Service()


@pytest.fixture
def counter() -> CountingTransport:
    return CountingTransport()


Scenario = Callable[[httpx.AsyncClient], Awaitable[None]]


def run(middleware: TokenryMiddleware, scenario: Scenario, host: str = "service.test") -> None:
    """``scenario`` with a client of the wrapped app, in a fresh event loop."""
    async def main() -> None:
        transport = httpx.ASGITransport(app=middleware)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            try:
                await scenario(client)
            finally:
                await middleware.aclose()
    run_coroutine(main())


def test_a_valid_token_reaches_the_app_with_its_identity(
    tokenry_url: str, service: Service, counter: CountingTransport, admin_actor: Actor,
    admin_auth: dict[str, str], core: Core
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url, transport=counter)

    async def scenario(client: httpx.AsyncClient) -> None:
        response = await client.get("/tickets/1", headers=admin_auth)
        assert response.status_code == 200, response.text
        identity = response.json()
        assert identity["user_id"] == admin_actor.user_id
        assert (identity["email"], identity["role"]) == (ADMIN_EMAIL, "admin")
        assert (identity["account"], identity["account_id"]) == ("default",
                                                                 admin_actor.account_id)
        assert identity["token_id"] is not None
        assert (identity["scopes"], identity["method"]) == (None, "token")
        assert (await client.get("/tickets/2", headers=admin_auth)).status_code == 200

    run(middleware, scenario)
    assert service.seen == ["/tickets/1", "/tickets/2"]
    assert counter.calls == 1  # the second request was a cache hit


def test_no_credential_or_two_of_them_are_refused_without_asking_tokenry(
    tokenry_url: str, service: Service, counter: CountingTransport, admin_secret: str
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url, transport=counter)
    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]

    async def scenario(client: httpx.AsyncClient) -> None:
        for headers in ([], [("Authorization", header), ("Authorization", header)]):
            response = await client.get("/tickets/1", headers=headers)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"] == 'Basic realm="tokenry"'

    run(middleware, scenario)
    assert (service.seen, counter.calls) == ([], 0)


def test_a_wrong_credential_gets_tokenrys_401_remembered_for_at_most_a_second(
    tokenry_url: str, service: Service, counter: CountingTransport, admin_secret: str
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url, transport=counter, ttl=60)
    wrong = basic(ADMIN_EMAIL, admin_secret + "x")

    async def scenario(client: httpx.AsyncClient) -> None:
        for _ in range(2):
            response = await client.get("/tickets/1", headers=wrong)
            assert response.status_code == 401
            assert response.json() == {"error": "Couldn't authenticate you"}
        assert counter.calls == 1
        await asyncio.sleep(1.1)
        assert (await client.get("/tickets/1", headers=wrong)).status_code == 401
        assert counter.calls == 2

    run(middleware, scenario)
    assert service.seen == []


def test_a_deactivated_token_is_refused_once_the_ttl_has_passed(
    tokenry_url: str, service: Service, core: Core, admin_actor: Actor
) -> None:
    ttl = 0.5
    middleware = TokenryMiddleware(service.app, tokenry_url, ttl=ttl)
    token = create_token(core, admin_actor, description="behind the middleware")
    auth = basic(ADMIN_EMAIL, token.secret)

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.get("/a", headers=auth)).status_code == 200
        update_token(core, admin_actor, token.token.id, {"active": False})
        deactivated = time.monotonic()
        while (await client.get("/b", headers=auth)).status_code == 200:
            assert time.monotonic() - deactivated < ttl + 0.5, "still let through"
            await asyncio.sleep(0.05)
        assert time.monotonic() - deactivated <= ttl + 0.5

    run(middleware, scenario)
    assert service.seen[0] == "/a" and set(service.seen) <= {"/a", "/b"}


def test_scopes_are_required_per_app_and_per_path_prefix(
    tokenry_url: str, service: Service, core: Core, admin_actor: Actor,
    admin_auth: dict[str, str]
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url, scope="tickets:read",
                                   paths={"/admin": "tickets:write", "/me/": None})
    assert middleware.required_scope("/admin") == "tickets:write"
    assert middleware.required_scope("/admin/keys") == "tickets:write"
    assert middleware.required_scope("/administrators") == "tickets:read"
    assert middleware.required_scope("/me") is None
    reader = basic(ADMIN_EMAIL, create_token(core, admin_actor, scopes=["tickets:read"]).secret)
    users = basic(ADMIN_EMAIL, create_token(core, admin_actor, scopes=["users:read"]).secret)

    async def scenario(client: httpx.AsyncClient) -> None:
        allowed = await client.get("/tickets/1", headers=reader)
        assert allowed.status_code == 200 and allowed.json()["scopes"] == ["tickets:read"]
        refused = await client.get("/admin/settings", headers=reader)
        assert refused.status_code == 403
        assert refused.json()["error"] == "Forbidden"
        assert "insufficient_scope" in refused.headers["WWW-Authenticate"]
        assert (await client.get("/tickets/1", headers=users)).status_code == 403
        assert (await client.get("/me/profile", headers=users)).status_code == 200
        assert (await client.get("/admin/settings", headers=admin_auth)).status_code == 200

    run(middleware, scenario)
    assert service.seen == ["/tickets/1", "/me/profile", "/admin/settings"]


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(
    tokenry_url: str, service: Service, counter: CountingTransport, core: Core,
    admin_actor: Actor
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url, transport=counter,
                                   max_entries=2, ttl=60)
    a, b, c = (basic(ADMIN_EMAIL, create_token(core, admin_actor).secret) for _ in range(3))

    async def scenario(client: httpx.AsyncClient) -> None:
        async def calls_for(auth: dict[str, str]) -> int:
            before = counter.calls
            assert (await client.get("/x", headers=auth)).status_code == 200
            return counter.calls - before

        assert [await calls_for(auth) for auth in (a, b, a)] == [1, 1, 0]
        assert await calls_for(c) == 1  # full: b, the least recently used, goes
        assert len(middleware.cache) == 2
        assert [await calls_for(auth) for auth in (a, c, b)] == [0, 0, 1]
        assert len(middleware.cache) == 2

    run(middleware, scenario)


def test_concurrent_requests_with_one_credential_make_one_remote_call(
    tokenry_url: str, service: Service, counter: CountingTransport, core: Core,
    admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url, transport=counter)
    other = basic(ADMIN_EMAIL, create_token(core, admin_actor).secret)

    async def scenario(client: httpx.AsyncClient) -> None:
        answers = await asyncio.gather(
            *(client.get(f"/t/{n}", headers=admin_auth if n % 2 else other)
              for n in range(40)))
        assert [response.status_code for response in answers] == [200] * 40

    run(middleware, scenario)
    assert counter.calls == 2  # one per credential
    assert len(service.seen) == 40


def test_tokenry_unreachable_answers_503_and_lets_nothing_through(
    service: Service, admin_auth: dict[str, str]
) -> None:
    middleware = TokenryMiddleware(service.app, f"http://127.0.0.1:{free_port()}", timeout=2)

    async def scenario(client: httpx.AsyncClient) -> None:
        for _ in range(2):  # an outage is not remembered: each request asks again
            response = await client.get("/tickets/1", headers=admin_auth)
            assert response.status_code == 503
            assert response.json()["error"] == "TokenryUnavailable"
        assert len(middleware.cache) == 0

    run(middleware, scenario)
    assert service.seen == []


@pytest.mark.parametrize("settings_overrides", [{"auth_failure_limit": 2}])
@pytest.mark.parametrize("forward_client", [True, False])
def test_tokenry_throttling_comes_back_as_429_for_the_caller_that_failed(
    tokenry_url: str, service: Service, admin_secret: str, forward_client: bool
) -> None:
    """tokenry's test server believes X-Forwarded-For from loopback (uvicorn's default), as
    a deployment would with ``forwarded_allow_ips`` naming the service."""
    middleware = TokenryMiddleware(service.app, tokenry_url, forward_client=forward_client)
    good = basic(ADMIN_EMAIL, admin_secret)

    async def get(address: str, headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=middleware, client=(address, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://s.test") as client:
            return await client.get("/x", headers=headers)

    async def main() -> None:
        statuses = [(await get("10.0.0.1", basic(ADMIN_EMAIL, f"wrong{n}"))).status_code
                    for n in range(3)]
        assert statuses == [401, 401, 429]
        throttled = await get("10.0.0.1", good)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) > 0
        other = await get("10.0.0.2", good)
        assert other.status_code == (200 if forward_client else 429)
        assert len(middleware.cache) == (3 if forward_client else 2)  # never a 429
        await middleware.aclose()

    run_coroutine(main())
    assert service.seen == (["/x"] if forward_client else [])


def test_the_account_is_the_requests_host_or_a_fixed_one(
    tokenry_url: str, service: Service, admin_auth: dict[str, str]
) -> None:
    async def status(host: str, account_host: str | None) -> int:
        middleware = TokenryMiddleware(service.app, tokenry_url, account_host=account_host)
        transport = httpx.ASGITransport(app=middleware)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            code = (await client.get("/x", headers=admin_auth)).status_code
        await middleware.aclose()
        return code

    async def main() -> list[int]:
        return [await status("default.localhost", None), await status("nope.localhost", None),
                await status("nope.localhost", "default.localhost"),
                await status("default.localhost", "nope.localhost")]

    assert run_coroutine(main()) == [200, 401, 200, 401]


def test_the_cache_and_the_repr_hold_no_secret(
    tokenry_url: str, service: Service, admin_secret: str
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url)
    auth = basic(ADMIN_EMAIL, admin_secret)

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.get("/x", headers=auth)).status_code == 200

    run(middleware, scenario)
    stored: Any = middleware.cache._items
    assert len(stored) == 1
    for text in (repr(stored), repr(middleware)):
        assert admin_secret not in text and auth["Authorization"] not in text


def test_an_expiry_tokenry_reports_is_read_as_seconds_left() -> None:
    assert seconds_until(None) is None
    left = seconds_until("2099-01-01T00:00:00Z")
    assert left is not None and left > 0
    past = seconds_until("2000-01-01T00:00:00+00:00")
    assert past is not None and past < 0


def test_an_app_served_by_uvicorn_is_guarded_and_closes_its_client_on_shutdown(
    tokenry_url: str, service: Service, admin_auth: dict[str, str]
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(middleware, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the service did not start"
        time.sleep(0.02)
    try:
        url = f"http://127.0.0.1:{port}/tickets/1"
        with httpx.Client(timeout=30) as client:
            assert client.get(url, headers=admin_auth).json()["email"] == ADMIN_EMAIL
            assert client.get(url).status_code == 401
    finally:
        server.should_exit = True
        thread.join(timeout=15)
    assert middleware._client is None  # lifespan shutdown closed the pool
    assert service.seen == ["/tickets/1"]


def test_a_websocket_needs_a_valid_credential_before_it_is_accepted(
    tokenry_url: str, admin_auth: dict[str, str]
) -> None:
    async def echo_identity(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(asdict(websocket.state.tokenry))
        await websocket.close()

    middleware = TokenryMiddleware(Starlette(routes=[WebSocketRoute("/ws", echo_identity)]),
                                   tokenry_url)
    with TestClient(middleware) as client:
        with client.websocket_connect("/ws", headers=admin_auth) as websocket:
            assert websocket.receive_json()["email"] == ADMIN_EMAIL
        for headers in ({}, basic(ADMIN_EMAIL, "wrong")):
            with (pytest.raises(WebSocketDisconnect) as refused,
                  client.websocket_connect("/ws", headers=headers)):
                pass
            assert refused.value.code == 1008


def test_a_credential_with_bytes_outside_ascii_gets_tokenrys_401_not_an_error(
    tokenry_url: str, service: Service
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url)

    async def scenario(client: httpx.AsyncClient) -> None:
        for value in (b"Basic \xe9t\xe9", b"Bearer tkry_\xff\xfe"):
            response = await client.get("/x", headers=[(b"Authorization", value)])
            assert response.status_code == 401

    run(middleware, scenario)
    assert service.seen == []


def test_tokenry_too_slow_to_answer_is_a_503(
    service: Service, admin_auth: dict[str, str]
) -> None:
    with socket.socket() as silent:  # the kernel completes the handshake; nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        middleware = TokenryMiddleware(service.app, f"http://127.0.0.1:{port}", timeout=0.3)

        async def scenario(client: httpx.AsyncClient) -> None:
            started = time.monotonic()
            assert (await client.get("/x", headers=admin_auth)).status_code == 503
            assert time.monotonic() - started < 5

        run(middleware, scenario)
    assert service.seen == []


def test_a_caller_going_away_does_not_cancel_the_answer_others_wait_for(
    tokenry_url: str, service: Service, counter: CountingTransport, admin_auth: dict[str, str]
) -> None:
    middleware = TokenryMiddleware(service.app, tokenry_url, transport=counter)

    async def scenario(client: httpx.AsyncClient) -> None:
        leaving = asyncio.ensure_future(client.get("/leaving", headers=admin_auth))
        staying = asyncio.ensure_future(client.get("/staying", headers=admin_auth))
        while counter.calls == 0:  # until the one remote call is under way
            await asyncio.sleep(0)
        leaving.cancel()
        assert (await staying).status_code == 200
        assert leaving.cancelled()

    run(middleware, scenario)
    assert (counter.calls, service.seen) == (1, ["/staying"])


def test_a_fastapi_app_adds_it_as_middleware_and_reads_the_identity(
    tokenry_url: str, admin_auth: dict[str, str]
) -> None:
    api = FastAPI()
    api.add_middleware(TokenryMiddleware, tokenry_url=tokenry_url, scope="users:read")

    @api.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        identity: TokenryIdentity = request.state.tokenry
        return {"email": identity.email, "account": identity.account}

    with TestClient(api) as client:
        assert client.get("/whoami", headers=admin_auth).json() == {
            "email": ADMIN_EMAIL, "account": "default"}
        assert client.get("/whoami").status_code == 401
