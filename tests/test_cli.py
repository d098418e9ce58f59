"""The command line calls the same operations as the API, on the same database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import ADMIN_EMAIL, basic, me_status
from tokenry.cli import app
from tokenry.core import Core

Cli = Callable[..., Any]


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


@pytest.fixture
def token(core: Core, cli: Cli) -> dict[str, Any]:
    created: dict[str, Any] = as_json(cli("tokens", "create", "--description", "cli", "--json"))
    return created["api_token"]


def test_create_shows_the_full_token_once_in_json(token: dict[str, Any], cli: Cli,
                                                  client: TestClient) -> None:
    secret = token["token"]
    assert secret.startswith("tkry_") and len(secret) == 43
    listed = cli("tokens", "list", "--json")
    shown = cli("tokens", "show", str(token["id"]), "--json")
    assert secret not in listed.stdout and secret not in shown.stdout
    assert as_json(shown)["api_token"]["token"] == secret[:9] + "********"
    assert me_status(client, ADMIN_EMAIL, secret) == 200


def eventually_status(client: TestClient, auth: dict[str, str], expected: int) -> int:
    """The server learns of another process's commit through its watcher, within a second."""
    deadline = time.monotonic() + 1.0
    while True:
        status = client.get("/api/v2/users/me", headers=auth).status_code
        if status == expected or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


@pytest.mark.parametrize("settings_overrides", [{"verify_cache_ttl": 300}])
def test_lifecycle_edit_deactivate_reactivate_delete(token: dict[str, Any], cli: Cli,
                                                     client: TestClient) -> None:
    """The server's cache lives for 300 s here: only invalidation can make this pass."""
    token_id = str(token["id"])
    auth = basic(ADMIN_EMAIL, token["token"])
    assert client.get("/api/v2/users/me", headers=auth).status_code == 200  # now cached
    edited = as_json(cli("tokens", "edit", token_id, "--description", "renamed", "--json"))
    assert edited["api_token"]["description"] == "renamed"
    refused = cli("tokens", "delete", token_id, "--yes")
    assert refused.exit_code == 1 and "Deactivate it first" in refused.output
    ok(cli("tokens", "deactivate", token_id, "--yes"))
    assert eventually_status(client, auth, 401) == 401
    ok(cli("tokens", "reactivate", token_id, "--yes"))
    assert eventually_status(client, auth, 200) == 200
    ok(cli("tokens", "deactivate", token_id, "--yes"))
    assert "Deleted API token" in ok(cli("tokens", "delete", token_id, "--yes")).output
    assert cli("tokens", "show", token_id).exit_code == 1


def test_destructive_commands_need_confirmation(token: dict[str, Any], cli: Cli) -> None:
    token_id = str(token["id"])
    for command in ("deactivate", "delete"):
        result = cli("tokens", command, token_id)
        assert result.exit_code == 1 and "--yes" in result.output
    assert as_json(cli("tokens", "show", token_id, "--json"))["api_token"]["active"] is True


def test_errors_are_clear_and_exit_non_zero(core: Core, cli: Cli) -> None:
    missing = cli("tokens", "show", "9999")
    assert missing.exit_code == 1 and "There is no API token with id 9999" in missing.output
    long = cli("tokens", "create", "--description", "x" * 300)
    assert long.exit_code == 1 and "description" in long.output
    past = cli("tokens", "create", "--expires-at", "2001-01-01T00:00:00Z")
    assert past.exit_code == 1 and "future" in past.output
    nobody = cli("tokens", "list", "--as", "ghost@example.com")
    assert nobody.exit_code == 1 and "ghost@example.com" in nobody.output


def test_users_and_acting_as_another_user(core: Core, cli: Cli) -> None:
    ok(cli("users", "create", "--email", "Boss@Example.com", "--name", "Boss", "--role", "admin"))
    agent = as_json(cli("users", "create", "--email", "ag@example.com", "--name", "Ag",
                        "--role", "agent", "--manager", "boss@example.com", "--json"))["user"]
    assert agent["manager_id"] is not None
    duplicate = cli("users", "create", "--email", "ag@example.com", "--name", "Again")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    bad_role = cli("users", "create", "--email", "x@example.com", "--name", "X", "--role", "god")
    assert bad_role.exit_code == 1 and "not a role" in bad_role.output
    assert ok(cli("tokens", "list", "--as", "boss@example.com")).exit_code == 0
    forbidden = cli("tokens", "create", "--as", "ag@example.com")
    assert forbidden.exit_code == 1 and "Only an admin" in forbidden.output
    updated = as_json(cli("users", "update", "ag@example.com", "--suspended", "--json"))
    assert updated["user"]["suspended"] is True
    emails = {u["email"] for u in as_json(cli("users", "list", "--json"))["users"]}
    assert emails == {ADMIN_EMAIL, "boss@example.com", "ag@example.com"}


def test_bound_token_from_the_cli(core: Core, cli: Cli, client: TestClient) -> None:
    ok(cli("users", "create", "--email", "bot@example.com", "--name", "Bot", "--role", "agent"))
    secret = as_json(cli("tokens", "create", "--user", "bot@example.com", "--json"))[
        "api_token"]["token"]
    assert me_status(client, "bot@example.com", secret) == 200
    assert me_status(client, ADMIN_EMAIL, secret) == 401


def test_settings_and_audit(token: dict[str, Any], cli: Cli) -> None:
    assert as_json(cli("settings", "get", "--json"))["settings"]["token_access"] is True
    assert cli("settings", "set", "token_access", "off").exit_code == 1  # needs --yes
    ok(cli("settings", "set", "token_access", "off", "--yes"))
    refused = cli("tokens", "list", "--json")
    assert refused.exit_code == 1 and "token access is turned off" in refused.output
    ok(cli("settings", "set", "token_access", "on"))
    tokens = as_json(cli("tokens", "list", "--json"))["api_tokens"]
    assert tokens and not any(t["active"] for t in tokens)
    bad = cli("settings", "set", "token_access", "perhaps")
    assert bad.exit_code == 1 and "true or false" in bad.output
    events = as_json(cli("audit", "list", "--action", "deactivate", "--json"))["audit_logs"]
    assert {e["source_id"] for e in events} == {t["id"] for t in tokens}


def test_accounts(core: Core, cli: Cli) -> None:
    ok(cli("accounts", "create", "acme", "--name", "Acme"))
    assert cli("accounts", "create", "acme").exit_code == 1
    assert cli("accounts", "create", "Not Valid!").exit_code == 1
    subdomains = {a["subdomain"] for a in as_json(cli("accounts", "list", "--json"))["accounts"]}
    assert subdomains == {"default", "acme"}
    ok(cli("users", "create", "--account", "acme", "--email", "a@acme.test", "--name", "A",
           "--role", "admin"))
    created = as_json(cli("tokens", "create", "--account", "acme", "--as", "a@acme.test",
                          "--json"))
    assert created["api_token"]["created_by_id"] is not None


def test_init_then_serve_checks_on_a_fresh_database(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"TOKENRY_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db",
           "TOKENRY_SETTINGS_FILE": "/nonexistent"}
    stale = runner.invoke(app, ["tokens", "list"], env=env)
    assert stale.exit_code == 2 and "tokenry db upgrade" in stale.output
    first = runner.invoke(app, ["init"], env=env)
    assert first.exit_code == 0, first.output
    assert "admin@tokenry.local" in first.output and "One-time password" in first.output
    assert (tmp_path / "tokenry.secret").exists()
    again = runner.invoke(app, ["init"], env=env)
    assert again.exit_code == 0 and "One-time password" not in again.output
    current = runner.invoke(app, ["db", "current"], env=env)
    revisions = current.output.split()
    assert revisions[0] == "current:" and revisions[1] == revisions[3] and revisions[1] != "None"


def test_version_prints_the_package_version(cli: Any) -> None:
    from importlib.metadata import version

    result = cli("--version")
    assert result.exit_code == 0 and result.output.strip() == f"tokenry {version('tokenry')}"


def test_the_cli_does_not_load_the_web_stack_or_hash_at_import() -> None:
    import subprocess
    import sys

    probe = ("import sys, time; t = time.perf_counter(); import tokenry.cli; "
             "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'icalendar', "
             "'jinja2') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
