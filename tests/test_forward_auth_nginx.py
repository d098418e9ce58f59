"""Forward auth through a real nginx: ``auth_request`` asks tokenry's ``/api/v2/verify``, each
location requiring its own scope, in front of a real backend that records what nginx sent it.

nginx comes from ``tests/nginx.py`` (Debian's, skipped without it except in CI, as ``nobody``
when run as root). ``tests/test_topology.py`` runs the shipped ``deploy/nginx.conf``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ADMIN_EMAIL, basic
from tests.live import live_server
from tests.nginx import require_nginx, running_nginx
from tests.receivers import HttpReceiver
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.update_token import update_token

# One internal location per required scope: auth_request takes a URI, not arguments. The
# identity headers are set once for the server; nginx's proxy_set_header replaces any header
# of the same name the client sent, so a caller cannot claim to be someone else.
CONFIG = """
upstream tokenry { server 127.0.0.1:%(tokenry)d; }
upstream backend { server 127.0.0.1:%(backend)d; }

server {
    listen 127.0.0.1:%(port)d;

    auth_request_set $tokenry_user_id $upstream_http_x_tokenry_user_id;
    auth_request_set $tokenry_user_email $upstream_http_x_tokenry_user_email;
    auth_request_set $tokenry_account $upstream_http_x_tokenry_account;
    auth_request_set $tokenry_scopes $upstream_http_x_tokenry_scopes;
    proxy_set_header X-Tokenry-User-Id $tokenry_user_id;
    proxy_set_header X-Tokenry-User-Email $tokenry_user_email;
    proxy_set_header X-Tokenry-Account $tokenry_account;
    proxy_set_header X-Tokenry-Scopes $tokenry_scopes;

    location = /_tokenry {
        internal;
        proxy_pass http://tokenry/api/v2/verify;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
    location = /_tokenry_tickets_read {
        internal;
        proxy_pass http://tokenry/api/v2/verify?scope=tickets:read;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
    location = /_tokenry_tickets_write {
        internal;
        proxy_pass http://tokenry/api/v2/verify?scope=tickets:write;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }

    location /profile/ { auth_request /_tokenry; proxy_pass http://backend; }
    location /tickets/ { auth_request /_tokenry_tickets_read; proxy_pass http://backend; }
    location /admin-only/ { auth_request /_tokenry_tickets_write; proxy_pass http://backend; }
}
"""


@pytest.fixture(scope="session")
def nginx() -> str:
    """The nginx binary, or a skip (a failure in CI) before any database is built."""
    return require_nginx()


@pytest.fixture
def backend() -> Iterator[HttpReceiver]:
    """The service behind nginx: it records every request and answers 200."""
    receiver = HttpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def gateway(nginx: str, core: Core, backend: HttpReceiver) -> Iterator[str]:
    """nginx's base URL, in front of a live tokenry and :func:`backend`."""
    with live_server(core) as tokenry_url:
        tokenry_port = urlsplit(tokenry_url).port
        assert tokenry_port is not None
        def server_conf(prefix: Path, port: int) -> str:
            return CONFIG % {"port": port, "tokenry": tokenry_port, "backend": backend.port}

        with running_nginx(nginx, server_conf) as proxy:
            yield proxy.url


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_an_unscoped_token_passes_every_location_and_the_backend_learns_who_called(
    gateway: str, backend: HttpReceiver, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    spoofed = {"X-Tokenry-User-Id": "999999", "X-Tokenry-User-Email": "boss@example.com",
               "X-Tokenry-Scopes": "*"}
    for path in ("/profile/me", "/tickets/42", "/admin-only/settings"):
        response = requests.get(gateway + path, headers=admin_auth | spoofed, timeout=10)
        assert response.status_code == 200, response.text
    posted = requests.post(gateway + "/admin-only/tickets", headers=admin_auth,
                           data=b'{"ticket": 1}', timeout=10)
    assert posted.status_code == 200
    seen = backend.requests
    assert [r.path for r in seen] == [
        "/profile/me", "/tickets/42", "/admin-only/settings", "/admin-only/tickets"]
    for received in seen:
        assert received.headers["x-tokenry-user-id"] == str(admin_actor.user_id)
        assert received.headers["x-tokenry-user-email"] == ADMIN_EMAIL
        assert received.headers["x-tokenry-account"] == "default"
        assert received.headers["x-tokenry-scopes"] == "*"
    assert seen[-1].body == b'{"ticket": 1}'  # only the subrequest to tokenry lost the body


def test_a_tickets_read_token_reaches_tickets_and_nginx_refuses_it_admin_only(
    gateway: str, backend: HttpReceiver, core: Core, admin_actor: Actor
) -> None:
    reader = basic(ADMIN_EMAIL, create_token(core, admin_actor, scopes=["tickets:read"]).secret)
    assert requests.get(gateway + "/tickets/42", headers=reader, timeout=10).status_code == 200
    refused = requests.get(gateway + "/admin-only/settings", headers=reader, timeout=10)
    assert refused.status_code == 403
    assert "nginx" in refused.text  # nginx's own page: the request went no further
    assert [(r.path, r.headers["x-tokenry-scopes"]) for r in backend.requests] == [
        ("/tickets/42", "tickets:read")]


def test_a_wrong_or_missing_credential_gets_401_and_the_backend_sees_nothing(
    gateway: str, backend: HttpReceiver, admin_secret: str
) -> None:
    wrong = [basic(ADMIN_EMAIL, admin_secret + "x"), basic("nobody@example.com", admin_secret),
             bearer("tkry_nope"), {"Authorization": "Digest x=1"}, {}]
    for headers in wrong:
        for path in ("/profile/me", "/tickets/42", "/admin-only/settings"):
            response = requests.get(gateway + path, headers=headers, timeout=10)
            assert response.status_code == 401, (headers, path)
            assert response.headers["WWW-Authenticate"] == 'Basic realm="tokenry"'
    assert backend.requests == []


def test_a_deactivated_token_is_refused_on_the_next_request_through_nginx(
    gateway: str, backend: HttpReceiver, core: Core, admin_actor: Actor
) -> None:
    token = create_token(core, admin_actor, description="behind nginx")
    auth = basic(ADMIN_EMAIL, token.secret)
    assert requests.get(gateway + "/tickets/1", headers=auth, timeout=10).status_code == 200
    update_token(core, admin_actor, token.token.id, {"active": False})
    assert requests.get(gateway + "/tickets/2", headers=auth, timeout=10).status_code == 401
    assert [r.path for r in backend.requests] == ["/tickets/1"]


def test_zendesk_basic_and_bearer_both_pass_nginx_as_the_same_user(
    gateway: str, backend: HttpReceiver, core: Core, admin_actor: Actor
) -> None:
    assert admin_actor.user_id is not None
    bound = create_token(core, admin_actor, user_id=admin_actor.user_id,
                         scopes=["tickets"]).secret
    for headers in (basic(ADMIN_EMAIL, bound), bearer(bound)):
        for path in ("/tickets/42", "/admin-only/settings"):
            response = requests.get(gateway + path, headers=headers, timeout=10)
            assert response.status_code == 200, (headers, path)
    assert {(r.headers["x-tokenry-user-id"], r.headers["x-tokenry-scopes"])
            for r in backend.requests} == {(str(admin_actor.user_id),
                                            "tickets:read tickets:write")}
    assert len(backend.requests) == 4
