"""deploy/compose.yaml's topology with real processes: PostgreSQL (a schema of the test's own),
``tokenry init`` once, two ``tokenry serve`` nodes sharing the database and secret, the shipped
``deploy/nginx.conf`` in a real nginx with only its addresses replaced, and the shipped
``deploy/example_backend.py`` behind it.

The nodes run with a verification cache TTL of 300 s, so a second node can only refuse a token
deactivated on the first by hearing the change (PostgreSQL ``NOTIFY``), never by expiry.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

import tokenry
from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    SECRET_KEY,
    basic,
    postgres_schema,
)
from tests.live import free_port
from tests.nginx import Nginx, require_nginx, running_nginx

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SRC = Path(tokenry.__file__).resolve().parents[1]  # the code under test, for the subprocesses
TIMEOUT = 30

# Two nodes share PostgreSQL, as in compose.yaml: no SQLite run here. Starting the topology
# takes seconds, so the module's tests share one; each makes its own tokens.
pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Node:
    url: str
    address: str  # host:port, as nginx logs its upstream
    process: subprocess.Popen[bytes]
    log: Path


@dataclass(frozen=True)
class Topology:
    nodes: tuple[Node, Node]
    proxy: Nginx
    admin: dict[str, str]  # an admin's Basic credential
    env: dict[str, str]  # the nodes' environment, for the CLI
    home: Path

    @property
    def url(self) -> str:
        return self.proxy.url

    def node_named(self, address: str) -> int:
        """1 or 2: the node at ``address`` (``127.0.0.1:PORT``)."""
        return 1 + [n.address for n in self.nodes].index(address)

    def access_log(self) -> list[dict[str, str]]:
        """nginx's access lines as fields (``request``, ``status``, ``upstream``, ``auth_node``)."""
        return [_fields(line) for line in self.proxy.access_log("tokenry.access.log")]

    def log_after(self, mark: int, count: int) -> list[dict[str, str]]:
        """The ``count`` access log lines after the first ``mark``, once nginx has written
        them (it logs after it answers)."""
        lines: list[dict[str, str]] = _eventually(
            lambda: (found if len(found := self.access_log()[mark:]) >= count else None),
            f"{count} access log lines")
        return lines[:count]


_LINE = re.compile(r'"(?P<request>[^"]*)" (?P<status>\d{3}) .*upstream=(?P<upstream>\S*) '
                   r"auth_node=(?P<auth_node>\S*)$")


def _fields(line: str) -> dict[str, str]:
    match = _LINE.search(line)
    assert match is not None, line
    return match.groupdict()


def _eventually(probe: Callable[[], Any], what: str, deadline: float = 15) -> Any:
    end = time.monotonic() + deadline
    while (found := probe()) is None:
        if time.monotonic() > end:
            raise AssertionError(f"no {what} within {deadline} s")
        time.sleep(0.01)
    return found


def shipped_nginx_conf(nodes: tuple[Node, Node], backend: str, access_log: Path,
                       port: int) -> str:
    """deploy/nginx.conf with compose's addresses replaced by the test's, each exactly once."""
    text = (DEPLOY / "nginx.conf").read_text()
    for old, new in (("server tokenry-1:8000;", f"server {nodes[0].address};"),
                     ("server tokenry-2:8000;", f"server {nodes[1].address};"),
                     ("server backend:8080;", f"server {backend};"),
                     ("listen 80;", f"listen 127.0.0.1:{port};"),
                     ("access_log /dev/stdout tokenry;", f"access_log {access_log} tokenry;")):
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} exactly once"
        text = text.replace(old, new)
    return text


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENRY_")}
    return env | {
        "PYTHONPATH": str(SRC),
        "TOKENRY_SETTINGS_FILE": "/nonexistent/tokenry.env",
        "TOKENRY_DATABASE_URL": database_url,
        "TOKENRY_SECRET_KEY": SECRET_KEY,
        "TOKENRY_ADMIN_EMAIL": ADMIN_EMAIL,
        "TOKENRY_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "TOKENRY_FORWARDED_ALLOW_IPS": "127.0.0.1",  # nginx
        "TOKENRY_VERIFY_CACHE_TTL": "300",
        # The shared throttle, rate limit and usage. The database number keeps these keys
        # apart from the other tests' on a shared Redis.
        "TOKENRY_REDIS_URL": "redis://127.0.0.1:6379/14",
    } | extra


def tokenry_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from tokenry.cli import main; main()", *args]


def _run(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(tokenry_command(*args), env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, f"tokenry {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def nginx() -> str:
    return require_nginx()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL schema of the module's own, dropped afterwards."""
    with postgres_schema("topology") as url:
        yield url


def _start_node(env: dict[str, str], cwd: Path, number: int) -> Node:
    port = free_port()
    log = cwd / f"node-{number}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            tokenry_command("serve", "--host", "127.0.0.1", "--port", str(port)),
            env=env | {"TOKENRY_NODE_ID": f"tokenry-{number}"}, cwd=cwd,
            stdout=output, stderr=subprocess.STDOUT)
    return Node(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", process, log)


def _wait_ready(node: Node) -> None:
    def ready() -> bool | None:
        if node.process.poll() is not None:
            raise AssertionError(f"{node.address} exited: {node.log.read_text()}")
        try:
            return requests.get(node.url + "/readyz", timeout=5).status_code == 200 or None
        except requests.ConnectionError:
            return None

    _eventually(ready, f"readiness of {node.address}", deadline=60)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def topology(nginx: str, postgres_url: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    tmp_path = tmp_path_factory.mktemp("topology")
    env = _environment(postgres_url)
    _run(env, tmp_path, "init")  # compose's one-shot `init` service
    created = json.loads(_run(env, tmp_path, "tokens", "create", "--description",
                              "topology admin", "--json"))
    admin = basic(ADMIN_EMAIL, created["api_token"]["token"])
    backend_port = free_port()
    backend = subprocess.Popen(
        [sys.executable, str(DEPLOY / "example_backend.py"), str(backend_port), "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nodes = (_start_node(env, tmp_path, 1), _start_node(env, tmp_path, 2))
    try:
        for node in nodes:
            _wait_ready(node)

        def server_conf(prefix: Path, port: int) -> str:
            return shipped_nginx_conf(nodes, f"127.0.0.1:{backend_port}",
                                      prefix / "tokenry.access.log", port)

        with running_nginx(nginx, server_conf) as proxy:
            yield Topology(nodes, proxy, admin, env, tmp_path)
            # auth_request logs every answer it does not pass on; the config turns a 429
            # into a 429 (test_tokenrys_429_reaches_the_client_through_nginx)
            complaints = [line for line in (proxy.prefix / "error.log").read_text().splitlines()
                          if "[notice]" not in line and "[info]" not in line
                          and "auth request unexpected status: 429" not in line]
            assert complaints == []  # e.g. an uninitialized variable in the shipped config
    finally:
        for process in (*(n.process for n in nodes), backend):
            _stop(process)


def _create_token(topology: Topology, **fields: Any) -> dict[str, Any]:
    response = requests.post(topology.url + "/api/v2/api_tokens", headers=topology.admin,
                             json={"api_token": fields}, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    token: dict[str, Any] = response.json()["api_token"]
    return token


def test_a_valid_token_passes_nginx_to_the_backend_with_its_identity_from_either_node(
    topology: Topology,
) -> None:
    mark = len(topology.access_log())
    me = requests.get(topology.url + "/api/v2/users/me", headers=topology.admin,
                      timeout=TIMEOUT).json()["user"]
    token = _create_token(topology, description="behind nginx", user_id=me["id"],
                          scopes=["tickets:read"])
    spoofed = {"X-Tokenry-User-Id": "999999", "X-Tokenry-User-Email": "boss@example.com",
               "X-Tokenry-Scopes": "*", "X-Tokenry-Account": "other"}
    seen = []
    for n in range(4):
        response = requests.get(f"{topology.url}/service/items/{n}", timeout=TIMEOUT,
                                headers=basic(ADMIN_EMAIL, token["token"]) | spoofed)
        assert response.status_code == 200, response.text
        seen.append(response.json())

    assert [s["path"] for s in seen] == [f"/service/items/{n}" for n in range(4)]
    for received in seen:
        headers = received["headers"]
        assert headers["x-tokenry-user-id"] == str(me["id"])
        assert headers["x-tokenry-user-email"] == ADMIN_EMAIL
        assert headers["x-tokenry-user-role"] == "admin"
        assert headers["x-tokenry-account"] == "default"
        assert headers["x-tokenry-token-id"] == str(token["id"])
        assert headers["x-tokenry-scopes"] == "tickets:read"
        assert "authorization" not in headers  # the backend never holds the token

    # Round robin: the four checks alternate between the two nodes.
    checked = [line for line in topology.log_after(mark, 6) if "/service/" in line["request"]]
    assert [topology.node_named(line["auth_node"]) for line in checked] in (
        [1, 2, 1, 2], [2, 1, 2, 1])


def test_tokenry_itself_is_served_through_nginx_by_both_nodes_and_both_are_ready(
    topology: Topology,
) -> None:
    for node in topology.nodes:
        ready = requests.get(node.url + "/readyz", timeout=TIMEOUT)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
    mark = len(topology.access_log())
    answers = [requests.get(topology.url + "/api/v2/users/me", headers=topology.admin,
                            timeout=TIMEOUT) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    host = topology.url.removeprefix("http://")
    assert answers[0].json()["user"]["url"].startswith(f"http://{host}/")  # nginx's Host
    served = [topology.node_named(line["upstream"]) for line in topology.log_after(mark, 2)]
    assert sorted(served) == [1, 2]


def test_a_token_deactivated_on_node_1_is_refused_through_nginx_whichever_node_answers(
    topology: Topology,
) -> None:
    mark = len(topology.access_log())
    token = _create_token(topology, description="to be deactivated")
    auth = basic(ADMIN_EMAIL, token["token"])
    # Both nodes verify it once and cache the answer (for 300 s).
    for n in range(2):
        assert requests.get(f"{topology.url}/service/warm/{n}", headers=auth,
                            timeout=TIMEOUT).status_code == 200
    logged = topology.log_after(mark, 3)
    assert {topology.node_named(line["auth_node"]) for line in logged[1:]} == {1, 2}

    node_1 = topology.nodes[0]
    deactivated = requests.put(f"{node_1.url}/api/v2/api_tokens/{token['id']}",
                               headers=topology.admin, timeout=TIMEOUT,
                               json={"api_token": {"active": False}})
    assert deactivated.status_code == 200, deactivated.text
    since = time.monotonic()

    # Node 1 refuses at once. Node 2 hears of it through NOTIFY, asynchronously: a request
    # that reaches it first may still pass, so ask until both have refused (deadline 5 s).
    answers: list[tuple[int, int, float]] = []  # (node, status, seconds after the PUT)
    while {node for node, status, _ in answers if status == 401} != {1, 2}:
        assert time.monotonic() - since < 5, f"passing after 5 s: {answers[-4:]}"
        status = requests.get(f"{topology.url}/service/after/{len(answers)}", headers=auth,
                              timeout=TIMEOUT).status_code
        line = topology.log_after(mark, 3 + len(answers) + 1)[-1]
        answers.append((topology.node_named(line["auth_node"]), status,
                        time.monotonic() - since))
    for node in (1, 2):
        statuses = [status for n, status, _ in answers if n == node]
        first_refusal = statuses.index(401)
        assert set(statuses[first_refusal:]) == {401}, answers  # never passes again
    assert [status for node, status, _ in answers if node == 1] == [401] * sum(
        1 for node, _, _ in answers if node == 1), answers  # node 1: the very next request
    passed = [r for r in answers if r[1] == 200]
    print(f"\nafter deactivation on node 1: {answers}; passed on node 2 meanwhile: {passed}")
    backend_paths = [line["request"] for line in topology.access_log()[mark:]
                     if line["status"] == "200" and "/service/after/" in line["request"]]
    assert len(backend_paths) == len(passed)


def test_the_failure_throttle_counts_a_clients_failures_on_both_nodes_together(
    topology: Topology,
) -> None:
    # Straight to the nodes, alternately, each time as the same client: they trust
    # X-Forwarded-For from 127.0.0.1, as they trust nginx. An address of this run's own keeps
    # the other tests' clients (and other runs on a shared Redis) out of its count.
    client = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}
    wrong = basic(ADMIN_EMAIL, "tkry_wrong") | client
    for n in range(20):  # TOKENRY_AUTH_FAILURE_LIMIT: 20 per source and minute
        node = topology.nodes[n % 2]
        refused = requests.get(node.url + "/api/v2/verify", headers=wrong, timeout=TIMEOUT)
        assert refused.status_code == 401, refused.text
    # Ten failures on each node: the node that counted the twentieth (node 2) knows the
    # source is throttled, even for a good token. Node 1 checks locally, without a round trip
    # to Redis, so it learns at the source's next failure there: the installation allows at
    # most limit + nodes - 1 guesses, never 20 per node.
    def verify(node: int, headers: dict[str, str]) -> int:
        return requests.get(topology.nodes[node].url + "/api/v2/verify",
                            headers=headers | client, timeout=TIMEOUT).status_code

    assert verify(1, topology.admin) == 429
    assert verify(0, wrong) == 401  # the 21st guess: limit + nodes - 1
    assert [verify(0, wrong), verify(0, topology.admin), verify(1, wrong)] == [429, 429, 429]


def test_tokenrys_429_reaches_the_client_through_nginx_with_its_retry_after(
    topology: Topology,
) -> None:
    """auth_request alone turns any answer but 2xx, 401 and 403 into a 500; the shipped
    config gives tokenry's 429 back. An account of its own, so its rate limit of 3 requests
    a minute holds back no other test."""
    def cli(*args: str) -> str:
        return _run(topology.env, topology.home, *args)

    cli("accounts", "create", "limited")
    cli("users", "create", "--account", "limited", "--email", "boss@limited.test",
        "--name", "Boss", "--role", "admin")
    cli("settings", "set", "rate_limit_per_minute", "3", "--account", "limited")
    secret = json.loads(cli("tokens", "create", "--account", "limited", "--user",
                            "boss@limited.test", "--json"))["api_token"]["token"]
    auth = basic("boss@limited.test", secret) | {"Host": "limited.localhost"}
    mark = len(topology.access_log())
    answers = [requests.get(f"{topology.url}/service/limited/{n}", headers=auth,
                            timeout=TIMEOUT) for n in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429], \
        [a.text for a in answers]
    refused = answers[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"] == "TooManyRequests"
    assert [line["status"] for line in topology.log_after(mark, 5)] == \
        ["200"] * 3 + ["429"] * 2
