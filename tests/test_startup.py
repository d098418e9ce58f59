"""Start-up: schema checks, the server secret, and the first admin."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.http.app import create_app
from tokenry.operations.bootstrap import SecretMismatch, bootstrap, bootstrap_admin
from tokenry.server_secret import SecretKeyError, load_or_create
from tokenry.storage.database import SchemaOutOfDate


def test_server_refuses_to_start_on_an_out_of_date_schema(settings: Settings) -> None:
    core = build_core(settings)  # no upgrade
    try:
        with pytest.raises(SchemaOutOfDate, match="tokenry db upgrade"), \
                TestClient(create_app(settings, core)):
            pass
    finally:
        core.close()


def test_bootstrap_creates_the_default_account_and_admin_once(settings: Settings) -> None:
    core = build_core(settings.model_copy(update={"admin_password": None}))
    try:
        core.db.upgrade()
        report = bootstrap(core)
        assert report is not None and report.admin_password
        assert report.admin_password not in repr(report)
        assert bootstrap(core) is None
        admin = bootstrap_admin(core)
        assert admin is not None and admin.role == "admin" and admin.verified
    finally:
        core.close()


def test_a_bad_admin_email_leaves_nothing_half_written(settings: Settings) -> None:
    from sqlalchemy import func, select

    from tokenry.domain.errors import Invalid
    from tokenry.storage.models import Account

    core = build_core(settings.model_copy(update={"admin_email": "not-an-email"}))
    try:
        core.db.upgrade()
        with pytest.raises(Invalid):
            bootstrap(core)
        with core.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Account)) == 0
    finally:
        core.close()


def test_a_different_server_secret_is_refused(settings: Settings) -> None:
    core = build_core(settings)
    core.db.upgrade()
    bootstrap(core)
    core.close()
    other = build_core(settings.model_copy(update={"secret_key": SecretStr("z" * 48)}))
    try:
        with pytest.raises(SecretMismatch):
            bootstrap(other)
    finally:
        other.close()


def test_generated_secret_file_is_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db")
    first = load_or_create(settings)
    path = tmp_path / "tokenry.secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(settings) == first and len(first) >= 32


def test_a_world_readable_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokenry.secret"
    path.write_text("x" * 64)
    path.chmod(0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_or_create(Settings(database_url=f"sqlite:///{tmp_path}/t.db"))


def test_settings_reject_unsupported_databases_and_prefixes() -> None:
    with pytest.raises(ValueError):
        Settings(database_url="mysql://x/y")
    with pytest.raises(ValueError):
        Settings(token_prefix="Nope!")
    assert Settings(database_url="postgresql://u@h/d").database_url.startswith(
        "postgresql+psycopg://")


def test_smtp_login_over_the_network_needs_starttls() -> None:
    with pytest.raises(ValueError, match="starttls"):
        Settings(smtp_host="mail.example.com", smtp_username="u")
    assert Settings(smtp_host="mail.example.com", smtp_username="u", smtp_starttls=True)
    assert Settings(smtp_host="127.0.0.1", smtp_username="u")  # a loopback relay


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    core = build_core(Settings(database_url=f"sqlite:///{tmp_path}/fresh.db",
                               secret_key="s" * 40))
    try:
        core.db.upgrade()
    finally:
        core.close()
    assert stat.S_IMODE((tmp_path / "fresh.db").stat().st_mode) == 0o600


def test_openapi_declares_the_credentials_and_leaves_public_routes_open(core: Core) -> None:
    with TestClient(create_app(core.settings, core)) as client:
        schema = client.get("/api/openapi.json").json()
        assert client.get("/api/docs").status_code == 200
    assert {"zendeskToken", "boundToken"} <= set(schema["components"]["securitySchemes"])
    assert schema["paths"]["/api/v2/api_tokens"]["get"]["security"]
    assert "security" not in schema["paths"]["/healthz"]["get"]
