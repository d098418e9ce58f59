"""The full token is shown exactly once and is nowhere else: database, logs, audit, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import ADMIN_EMAIL, basic
from tokenry.core import Core
from tokenry.storage.models import Base


def _database_dump(core: Core) -> str:
    with core.db.read() as session:
        return "\n".join(
            repr(row) for table in Base.metadata.sorted_tables
            for row in session.execute(select(table)).all()
        )


def _sqlite_files(core: Core) -> bytes:
    database = core.db.engine.url.database
    assert database is not None
    return b"".join(p.read_bytes() for p in Path(database).parent.glob(Path(database).name + "*"))


def test_full_token_appears_once_and_nowhere_else(
    client: TestClient, core: Core, admin_auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = client.post("/api/v2/api_tokens.json", headers=admin_auth,
                          json={"api_token": {"description": "secret test"}})
    secret = created.json()["api_token"]["token"]
    assert created.headers["Cache-Control"] == "no-store"
    token_id = created.json()["api_token"]["id"]
    seen = [
        client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, secret)).text,
        client.get(f"/api/v2/api_tokens/{token_id}", headers=admin_auth).text,
        client.get("/api/v2/api_tokens", headers=admin_auth).text,
        client.put(f"/api/v2/api_tokens/{token_id}", headers=admin_auth,
                   json={"api_token": {"description": "changed", "active": False}}).text,
        client.get("/api/v2/audit_logs", headers=admin_auth).text,
        client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, secret)).text,  # a failure
        client.put(f"/api/v2/api_tokens/{token_id}", headers=admin_auth,
                   json={"api_token": {"token": secret + "x"}}).text,
    ]
    core.usage.flush(core.db)
    assert all(secret not in body for body in seen)
    assert secret not in caplog.text
    dump = _database_dump(core)
    assert secret not in dump and secret[5:] not in dump
    assert core.hasher.hash(secret) in dump  # only its keyed hash is stored
    if core.db.engine.dialect.name == "sqlite":  # the raw bytes, write-ahead log included
        assert secret.encode() not in _sqlite_files(core)


@pytest.mark.parametrize(("path", "shown"), [
    ("/calendar/s3cr3t-Value_x.ics", "/calendar/[redacted].ics"),
    ("/deliveries/s3cr3t-Value_x", "/deliveries/[redacted]"),
    ("/api/v2/deliveries/s3cr3t-Value_x/retrieve", "/api/v2/deliveries/[redacted]/retrieve"),
])
def test_access_log_never_shows_a_secret_carried_in_the_path(
    client: TestClient, path: str, shown: str
) -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("1.2.3.4", "GET", path, "1.1", 200),
                               None)
    for log_filter in logging.getLogger("uvicorn.access").filters:  # installed by create_app
        assert isinstance(log_filter, logging.Filter)
        log_filter.filter(record)
    assert "s3cr3t" not in record.getMessage() and shown in record.getMessage()
