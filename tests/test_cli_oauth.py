"""``tokenry oauth``: the OAuth clients and tokens use cases from the command line, against
the same database the real app serves (both SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tokenry.core import Core
from tokenry.http.app import create_app
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.storage.models import AuditEvent, OAuthClient

Cli = Callable[..., Any]
CALLBACK = "https://sync.example.com/callback"


@pytest.fixture
def client(core: Core) -> Iterator[TestClient]:
    """The real app over https: the token endpoint refuses plain http off loopback."""
    with TestClient(create_app(core.settings, core), base_url="https://testserver") as https:
        yield https


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


def refused(result: Any, reason: str) -> None:
    assert result.exit_code == 1, result.output
    assert reason in result.output, result.output
    assert "Traceback" not in result.output


def create(cli: Cli, *extra: str, identifier: str = "sync") -> dict[str, Any]:
    made: dict[str, Any] = as_json(cli(
        "oauth", "clients", "create", "--name", "Nightly sync", "--identifier", identifier,
        "--redirect-uri", CALLBACK, "--scope", "read", "--scope", "users:write",
        "--user", "admin@example.com", *extra, "--json"))
    return made["client"]


def client_credentials(client: TestClient, identifier: str, secret: str) -> Any:
    return client.post("/oauth/tokens", auth=(identifier, secret),
                       data={"grant_type": "client_credentials", "scope": "read"})


def eventually_status(client: TestClient, auth: dict[str, str], expected: int) -> int:
    """The server learns of the CLI's commit through its watcher, within a second."""
    deadline = time.monotonic() + 1.0
    while True:
        status = client.get("/api/v2/users/me", headers=auth).status_code
        if status == expected or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def test_the_printed_secret_gets_a_client_credentials_token(
        core: Core, cli: Cli, client: TestClient) -> None:
    result = ok(cli("oauth", "clients", "create", "--name", "Nightly sync", "--identifier",
                    "sync", "--redirect-uri", CALLBACK, "--scope", "read",
                    "--user", "admin@example.com"))
    assert "Copy its secret now; it is not shown again" in result.stdout
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("tkryos_")
    answer = client_credentials(client, "sync", secret)
    assert answer.status_code == 200, answer.text
    access = answer.json()["access_token"]
    me = client.get("/api/v2/users/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == "admin@example.com"
    listed, shown = cli("oauth", "clients", "list"), cli("oauth", "clients", "show", "1")
    assert secret not in ok(listed).stdout and secret not in ok(shown).stdout
    with core.db.read() as session:  # only its hash is kept
        stored = session.scalars(select(OAuthClient)).one()
    assert secret not in str(vars(stored))


def test_a_regenerated_secret_replaces_the_old_one_at_once(
        core: Core, cli: Cli, client: TestClient) -> None:
    made = create(cli)
    old = made["secret"]
    assert client_credentials(client, "sync", old).status_code == 200
    unconfirmed = cli("oauth", "clients", "regenerate-secret", str(made["id"]))
    refused(unconfirmed, "pass --yes")
    assert client_credentials(client, "sync", old).status_code == 200  # nothing changed
    new = as_json(cli("oauth", "clients", "regenerate-secret", str(made["id"]), "--yes",
                      "--json"))["client"]["secret"]
    assert new != old and new.startswith("tkryos_")
    stale = client_credentials(client, "sync", old)
    assert stale.status_code == 401 and stale.json()["error"] == "invalid_client"
    assert client_credentials(client, "sync", new).status_code == 200


def test_a_public_client_has_no_secret_to_print_or_regenerate(core: Core, cli: Cli) -> None:
    result = ok(cli("oauth", "clients", "create", "--name", "Desk", "--identifier", "desk",
                    "--kind", "public", "--redirect-uri", CALLBACK))
    assert "a public client has no secret" in result.stdout
    made = as_json(cli("oauth", "clients", "show", "1", "--json"))["client"]
    assert made["kind"] == "public" and made["secret"] is None
    refused(cli("oauth", "clients", "regenerate-secret", "1", "--yes"),
            "A public client has no secret to regenerate")


def test_a_refusal_exits_1_with_the_reason_and_makes_nothing(
        core: Core, cli: Cli, admin_actor: Actor) -> None:
    update_account_settings(core, admin_actor, {"integrations_allowed": False})
    result = cli("oauth", "clients", "create", "--name", "Sync", "--identifier", "sync",
                 "--redirect-uri", CALLBACK)
    refused(result, "integrations_allowed is off")
    with core.db.read() as session:
        assert session.scalars(select(OAuthClient)).all() == []
        assert session.scalars(select(AuditEvent).where(
            AuditEvent.source_type == "oauth_client")).all() == []


def test_bad_input_is_named_by_its_flag(core: Core, cli: Cli, admin_actor: Actor) -> None:
    refused(cli("oauth", "clients", "create", "--identifier", "sync",
                "--redirect-uri", CALLBACK), "--name: is required")
    refused(cli("oauth", "clients", "create", "--name", "X", "--identifier", "-bad",
                "--redirect-uri", CALLBACK), "--identifier: must be")
    refused(cli("oauth", "clients", "create", "--name", "X", "--identifier", "x",
                "--kind", "secret"), "--kind: must be public or confidential")
    refused(cli("oauth", "clients", "create", "--name", "X", "--identifier", "x",
                "--redirect-uri", "not-a-url"), "--redirect-uri:")
    refused(cli("oauth", "clients", "create", "--name", "X", "--identifier", "x",
                "--redirect-uri", CALLBACK, "--access-token-seconds", "5"),
            "--access-token-seconds: must be a number of seconds")
    refused(cli("oauth", "clients", "create", "--name", "X", "--identifier", "x",
                "--redirect-uri", CALLBACK, "--user", "ghost@example.com"), "ghost@example.com")
    update_account_settings(core, admin_actor, {"allowed_scopes": ["read"]})
    refused(cli("oauth", "clients", "create", "--name", "X", "--identifier", "x",
                "--redirect-uri", CALLBACK, "--scope", "write"),
            "--scope: beyond what this account allows: write")
    refused(cli("oauth", "clients", "show", "999"), "999")


def test_edit_changes_only_what_is_given(core: Core, cli: Cli) -> None:
    made = create(cli)
    client_id = str(made["id"])
    edited = as_json(cli("oauth", "clients", "edit", client_id, "--name", "Renamed",
                         "--scope", "read", "--json"))["client"]
    assert edited["name"] == "Renamed" and edited["allowed_scopes"] == ["read"]
    assert edited["identifier"] == "sync" and edited["redirect_uri"] == [CALLBACK]
    assert edited["user_id"] == made["user_id"] is not None
    cleared = as_json(cli("oauth", "clients", "edit", client_id, "--all-scopes", "--no-user",
                          "--access-token-seconds", "600", "--json"))["client"]
    assert cleared["allowed_scopes"] is None and cleared["user_id"] is None
    assert cleared["access_token_seconds"] == 600 and cleared["name"] == "Renamed"
    refused(cli("oauth", "clients", "edit", client_id), "Nothing to change")
    refused(cli("oauth", "clients", "edit", client_id, "--scope", "read", "--all-scopes"),
            "contradict")
    create(cli, identifier="other")
    refused(cli("oauth", "clients", "edit", client_id, "--identifier", "other"),
            "already has an OAuth client with identifier 'other'")


def test_tokens_list_show_and_revoke(core: Core, cli: Cli, client: TestClient) -> None:
    first, second = create(cli), create(cli, identifier="second")
    access = client_credentials(client, "sync", first["secret"]).json()["access_token"]
    client_credentials(client, "second", second["secret"])
    every = as_json(cli("oauth", "tokens", "list", "--json"))
    assert every["count"] == 2 and access not in json.dumps(every)
    mine = as_json(cli("oauth", "tokens", "list", "--client", str(first["id"]), "--json"))
    [token] = mine["tokens"]
    assert token["client_id"] == first["id"] and token["revoked_at"] is None
    shown = as_json(cli("oauth", "tokens", "show", str(token["id"]), "--json"))["token"]
    assert shown["token"] == token["token"] and access not in json.dumps(shown)
    bearer = {"Authorization": f"Bearer {access}"}
    assert client.get("/api/v2/users/me", headers=bearer).status_code == 200
    refused(cli("oauth", "tokens", "revoke", str(token["id"])), "pass --yes")
    assert "Revoked OAuth token" in ok(cli("oauth", "tokens", "revoke", str(token["id"]),
                                           "--yes")).stdout
    assert eventually_status(client, bearer, 401) == 401
    again = as_json(cli("oauth", "tokens", "show", str(token["id"]), "--json"))["token"]
    assert again["revoked_at"] is not None
    refused(cli("oauth", "tokens", "show", "999"), "999")


def test_delete_needs_confirmation_and_takes_the_tokens(
        core: Core, cli: Cli, client: TestClient) -> None:
    made = create(cli)
    access = client_credentials(client, "sync", made["secret"]).json()["access_token"]
    refused(cli("oauth", "clients", "delete", str(made["id"])), "pass --yes")
    ok(cli("oauth", "clients", "delete", str(made["id"]), "--yes"))
    assert as_json(cli("oauth", "tokens", "list", "--json"))["count"] == 0
    assert eventually_status(client, {"Authorization": f"Bearer {access}"}, 401) == 401
    refused(cli("oauth", "clients", "show", str(made["id"])), "OAuth client")


@pytest.mark.parametrize("command", [("clients", "list"), ("tokens", "list")])
def test_only_admins_manage_oauth(core: Core, cli: Cli, command: tuple[str, str]) -> None:
    ok(cli("users", "create", "--email", "ag@example.com", "--name", "Ag", "--role", "agent"))
    result = cli("oauth", *command, "--as", "ag@example.com")
    assert result.exit_code == 1 and "admin" in result.output
