"""GET /readyz: ready when the database answers, its schema is current and (on PostgreSQL)
the change listener is connected; 503 naming the failed check otherwise."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from tests.live import http, live_server
from tokenry.core import Core


def wait_for_listener(client: TestClient) -> None:
    watcher = client.app.state.watcher  # type: ignore[attr-defined]
    assert watcher.ready.wait(10)
    deadline = time.monotonic() + 10
    while not watcher.connected and time.monotonic() < deadline:
        time.sleep(0.01)


def test_ready_when_database_schema_and_listener_are_fine(client: TestClient,
                                                           core: Core) -> None:
    wait_for_listener(client)
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    expected = {"database": "ok", "schema": "ok"}
    if core.db.is_postgres:
        expected["listener"] = "ok"
    assert answer.json() == {"status": "ready", "checks": expected}
    assert answer.headers["cache-control"] == "no-store"


def test_not_ready_when_the_schema_is_behind(client: TestClient, core: Core) -> None:
    wait_for_listener(client)
    head = core.db.head_revision()
    core.db.downgrade("-1")
    try:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "unready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["schema"].startswith("at revision ")
        assert body["checks"]["schema"].endswith(f"this code needs {head}")
        assert client.get("/healthz").status_code == 200  # still alive: liveness is apart
    finally:
        core.db.upgrade()
    assert client.get("/readyz").status_code == 200


def test_not_ready_on_postgres_when_the_listener_stops(client: TestClient, core: Core) -> None:
    wait_for_listener(client)
    client.app.state.watcher.stop()  # type: ignore[attr-defined]
    answer = client.get("/readyz")
    if core.db.is_postgres:
        assert answer.status_code == 503
        assert answer.json()["checks"] == {
            "database": "ok", "schema": "ok",
            "listener": "not listening for other nodes' identity changes"}
    else:  # one SQLite server is the only node: nothing to hear from, nothing required
        assert answer.status_code == 200


def test_not_ready_when_the_database_is_gone(client: TestClient, core: Core) -> None:
    """The node's read engine pointed at a database that is not there (a real one: a server
    that refuses connections, a SQLite file in a directory that does not exist)."""
    wait_for_listener(client)
    broken = "sqlite:////nonexistent-dir/tokenry.db" if not core.db.is_postgres \
        else "postgresql+psycopg://nobody@127.0.0.1:1/none"
    original = core.db.read_engine
    core.db.read_engine = create_engine(broken)
    try:
        answer = client.get("/readyz")
    finally:
        core.db.read_engine.dispose()
        core.db.read_engine = original
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "unreachable (OperationalError)"
    assert "nobody" not in answer.text and "nonexistent" not in answer.text


def test_readyz_over_the_network(core: Core) -> None:
    with live_server(core) as url:
        deadline = time.monotonic() + 10
        answer = http.get(f"{url}/readyz")
        while answer.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = http.get(f"{url}/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ready"
