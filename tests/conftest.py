"""Fixtures: settings, a migrated database (SQLite and PostgreSQL), the app, clients, the CLI.

Every test that takes ``core`` runs twice: on a fresh SQLite file and on PostgreSQL (a
schema of its own, dropped afterwards). In CI (``TOKENRY_REQUIRE_POSTGRES=1``) an
unreachable PostgreSQL fails the run; elsewhere those tests skip with a loud notice.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import argon2
import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.receivers import HttpReceiver, SlackStandIn, SmtpReceiver
from tokenry.auth import passwords
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.http.app import create_app
from tokenry.operations.bootstrap import bootstrap, bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token

POSTGRES_URL = os.environ.get("TOKENRY_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("TOKENRY_REQUIRE_POSTGRES") == "1" or bool(os.environ.get("CI"))
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
SECRET_KEY = "test-secret-key-" + "k" * 40


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
            connection.execute("select 1")
    except psycopg.Error as error:
        return str(error).strip()
    return None


_PG_PROBLEM = _postgres_reachable()
# Production keeps argon2's default cost; tests hash many passwords and need none of it.
passwords.use_parameters(argon2.profiles.CHEAPEST)


def pytest_report_header() -> list[str]:
    lines = [f"PostgreSQL: {POSTGRES_URL}" if _PG_PROBLEM is None else
             f"PostgreSQL: UNREACHABLE ({_PG_PROBLEM}); PostgreSQL tests will be skipped"]
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        lines.append(f"node-zendesk: {' and '.join(missing).upper()} MISSING; its tests will "
                     "be skipped (they fail in CI)")
    nginx = os.environ.get("TOKENRY_TEST_NGINX", "/usr/sbin/nginx")
    if not Path(nginx).exists():
        lines.append(f"nginx: {nginx} MISSING; forward-auth tests through nginx will be skipped "
                     "(they fail in CI)")
    return lines


class Clock:
    """A clock tests can move forward; starts at the real time."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/tokenry.db"
        return
    with postgres_schema("test") as url:
        yield url


@contextmanager
def postgres_schema(what: str) -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a new schema, dropped afterwards. Unreachable
    PostgreSQL fails in CI and skips ``what`` (with a warning) elsewhere."""
    if _PG_PROBLEM is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here but unreachable: {_PG_PROBLEM}")
        warnings.warn(f"PostgreSQL unreachable, {what} skipped: {_PG_PROBLEM}", stacklevel=1)
        pytest.skip("PostgreSQL unreachable (set up a server or run in CI)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Tests override settings by redefining or updating this fixture."""
    return {}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, settings_overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "base_url": "http://testserver",
        "secret_key_file": tmp_path / "tokenry.secret",
        "webhook_allow_private": True,  # the test receivers listen on loopback
        "slack_api_url": "http://127.0.0.1:9/api",  # nothing listens: tests that DM set theirs
        # A test calls the worker and the jobs itself; a server's own background run would
        # race it for the same outbox rows. Tests of the background run turn it on.
        "scheduler_enabled": False,
        # Likewise the usage flush: a test flushes when it means to. A background flush in
        # between would write uses the test has not yet flushed (after it moved the clock,
        # say) and its counts would depend on the machine's speed.
        "usage_flush_interval": 3600,
    }
    values.update(settings_overrides)
    return Settings(**values)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def core(settings: Settings, clock: Clock) -> Iterator[Core]:
    core = build_core(settings, clock=clock)
    core.db.upgrade()
    bootstrap(core)
    yield core
    core.close()


@pytest.fixture
def admin_actor(core: Core) -> Actor:
    admin = bootstrap_admin(core)
    assert admin is not None
    return Actor(account_id=admin.account_id, user_id=admin.id, label=admin.email, via="cli",
                 credential="cli", proves_person=True)


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    with TestClient(create_app(core.settings, core)) as test_client:
        yield test_client


def basic(email: str, secret: str, *, token: bool = True) -> dict[str, str]:
    user = f"{email}/token" if token else email
    encoded = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def me_status(client: TestClient, email: str, secret: str) -> int:
    """The status of ``GET /api/v2/users/me`` with ``email/token:secret``."""
    return int(client.get("/api/v2/users/me", headers=basic(email, secret)).status_code)


@pytest.fixture
def admin_secret(core: Core, admin_actor: Actor) -> str:
    return create_token(core, admin_actor, description="admin's own").secret


@pytest.fixture
def admin_auth(admin_secret: str) -> dict[str, str]:
    return basic(ADMIN_EMAIL, admin_secret)


@pytest.fixture
def hooks() -> Iterator[HttpReceiver]:
    """A real HTTP receiver on loopback for webhooks (can be stopped to play dead)."""
    receiver = HttpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """A local stand-in for Slack's Web API (users.lookupByEmail, chat.postMessage)."""
    stand_in = SlackStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """A real SMTP server (aiosmtpd) on loopback."""
    receiver = SmtpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "TOKENRY_DATABASE_URL": settings.database_url,
        "TOKENRY_SECRET_KEY": SECRET_KEY,
        "TOKENRY_ADMIN_EMAIL": ADMIN_EMAIL,
        "TOKENRY_SECRET_KEY_FILE": str(settings.secret_key_file),
        "TOKENRY_SETTINGS_FILE": "/nonexistent/tokenry.env",
        "TOKENRY_BASE_URL": settings.base_url,
        "TOKENRY_WEBHOOK_ALLOW_PRIVATE": str(settings.webhook_allow_private).lower(),
        "TOKENRY_SLACK_API_URL": settings.slack_api_url,
    }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., Any]:
    from tokenry.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(app, list(args), env=cli_env, input=input)

    return invoke


CHROMIUM = os.environ.get("TOKENRY_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("TOKENRY_REQUIRE_BROWSER") == "1" or bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download never runs here)."""
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"a browser is required here but {CHROMIUM} is missing")
        warnings.warn(f"{CHROMIUM} missing: browser tests skipped", stacklevel=1)
        pytest.skip("no Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: a file that ran earlier on this worker (a
    browser test: Playwright's sync API) may leave an event loop running in this thread,
    and asyncio.run refuses to start beside it."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
