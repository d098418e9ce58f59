"""``tokenry requests`` and exception tokens: the access-request workflow from the command line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tokenry.core import Core
from tokenry.operations.context import Actor

Cli = Callable[..., Any]
BOSS, REQUESTER, PROVISIONER = "boss@example.com", "req@example.com", "prov@example.com"


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


def refused(result: Any, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    for fragment in fragments:
        assert fragment in result.output


@pytest.fixture
def people(core: Core, admin_actor: Actor, cli: Cli) -> None:
    """A manager, their report who files requests, a provisioner, and a private channel."""
    ok(cli("users", "create", "--email", BOSS, "--name", "Boss", "--role", "admin"))
    ok(cli("users", "create", "--email", REQUESTER, "--name", "Ria Quest", "--role", "admin",
           "--manager", BOSS))
    ok(cli("users", "create", "--email", PROVISIONER, "--name", "Pat Rov", "--role", "admin",
           "--provisioner"))
    ok(cli("settings", "set", "slack_bot_token", "xoxb-test-bot-token"))


def removal_date(core: Core, days: int = 30) -> str:
    return (core.clock().date() + timedelta(days=days)).isoformat()


def submit(cli: Cli, core: Core, *extra: str) -> dict[str, Any]:
    result = cli("requests", "submit", "--service", "Billing", "--purpose", "monthly export",
                 "--use-case", "export invoices", "--removal-date", removal_date(core),
                 "--justification", "the export endpoint needs admin", "--as", REQUESTER,
                 "--json", *extra)
    request: dict[str, Any] = as_json(result)["access_request"]
    return request


def approve(cli: Cli, request_id: int, as_email: str, *extra: str) -> Any:
    return cli("requests", "approve", str(request_id), "--as", as_email, *extra)


def test_a_request_goes_from_submission_to_an_issued_token(people: None, core: Core,
                                                           cli: Cli) -> None:
    request = submit(cli, core)
    request_id = request["id"]
    assert request["state"] == "submitted"
    assert request["url"] == f"http://testserver/requests/{request_id}"

    listed = as_json(cli("requests", "list", "--as", REQUESTER, "--json"))
    assert [r["id"] for r in listed["access_requests"]] == [request_id]
    table = ok(cli("requests", "list", "--state", "submitted", "--as", BOSS)).output
    assert "Billing" in table and "submitted" in table
    shown = as_json(cli("requests", "show", str(request_id), "--as", BOSS, "--json"))
    assert shown["access_request"]["purpose"] == "monthly export"

    by_manager = as_json(approve(cli, request_id, BOSS, "--stage", "manager", "--json"))
    assert by_manager["access_request"]["state"] == "manager_approved"
    refused(approve(cli, request_id, BOSS, "--stage", "manager"),
            "The manager already approved this request", "it now waits for a")

    summary = ok(approve(cli, request_id, PROVISIONER)).output
    issued = as_json(cli("requests", "show", str(request_id), "--json"))["access_request"]
    assert issued["state"] == "issued" and issued["token_id"] is not None
    assert f"is now issued (API token {issued['token_id']}" in summary

    token = as_json(cli("tokens", "show", str(issued["token_id"]), "--json"))["api_token"]
    expected_date = date.fromisoformat(issued["removal_date"]).isoformat()
    assert token["description"] == (
        f"Ria Quest - http://testserver/requests/{request_id} - {expected_date}")
    assert token["kind"] == "request" and token["access_request_id"] == request_id


def test_approving_with_the_provisioner_stage_too_early_is_refused(people: None, core: Core,
                                                                   cli: Cli) -> None:
    request_id = submit(cli, core)["id"]
    refused(approve(cli, request_id, PROVISIONER, "--stage", "provisioner"),
            "still waits for the manager's approval")
    assert cli("requests", "approve", str(request_id), "--stage", "ceo").exit_code == 2


def test_submit_names_every_missing_field(people: None, core: Core, cli: Cli) -> None:
    result = cli("requests", "submit", "--service", "Billing", "--as", REQUESTER)
    refused(result, "--purpose", "--use-case", "--removal-date")  # the CLI's own words


def test_submit_refuses_a_removal_date_that_is_not_a_date(people: None, core: Core,
                                                          cli: Cli) -> None:
    result = cli("requests", "submit", "--service", "Billing", "--purpose", "p",
                 "--use-case", "u", "--removal-date", "31/01/2030", "--as", REQUESTER)
    refused(result, "--removal-date", "'31/01/2030' is not a date (YYYY-MM-DD)")


def test_deny_needs_a_reason(people: None, core: Core, cli: Cli) -> None:
    request_id = str(submit(cli, core)["id"])
    refused(cli("requests", "deny", request_id, "--as", BOSS), "reason")
    shown = as_json(cli("requests", "show", request_id, "--json"))["access_request"]
    assert shown["state"] == "submitted"


def test_denial_for_admin_level_not_required_advises_password_authentication(
        people: None, core: Core, cli: Cli) -> None:
    request_id = str(submit(cli, core)["id"])
    summary = ok(cli("requests", "deny", request_id, "--reason", "admin level not required",
                     "--as", BOSS)).output
    assert "is now denied" in summary
    assert ".." not in summary  # the advice ends with its own full stop
    shown = as_json(cli("requests", "show", request_id, "--as", REQUESTER, "--json"))
    request = shown["access_request"]
    assert request["state"] == "denied" and request["denial_reason"] == "admin level not required"
    assert "password (basic) authentication" in request["denial_message"]


def test_the_requester_cancels_a_pending_request_after_confirming(people: None, core: Core,
                                                                   cli: Cli) -> None:
    request_id = str(submit(cli, core)["id"])
    refused(cli("requests", "cancel", request_id, "--as", REQUESTER), "--yes")
    cancelled = as_json(cli("requests", "cancel", request_id, "--yes", "--as", REQUESTER,
                            "--json"))
    assert cancelled["access_request"]["state"] == "cancelled"
    refused(cli("requests", "cancel", request_id, "--yes", "--as", REQUESTER), "cancelled")


def test_another_agent_can_neither_approve_nor_cancel_a_request(people: None, core: Core,
                                                                cli: Cli) -> None:
    ok(cli("users", "create", "--email", "peer@example.com", "--name", "Peer", "--role",
           "agent", "--manager", BOSS))
    request_id = submit(cli, core)["id"]
    refused(approve(cli, request_id, "peer@example.com"),
            "waits for the requester's manager; only they can approve it")
    refused(cli("requests", "cancel", str(request_id), "--yes", "--as", "peer@example.com"),
            "Only the requester can cancel")
    refused(cli("requests", "show", str(request_id), "--as", "peer@example.com"),
            "You can only see requests")


def test_the_requester_cannot_approve_their_own_request(people: None, core: Core,
                                                        cli: Cli) -> None:
    request_id = submit(cli, core)["id"]
    refused(approve(cli, request_id, REQUESTER), "Nobody can approve their own request")


def test_list_filters_by_state_and_refuses_an_unknown_one(people: None, core: Core,
                                                          cli: Cli) -> None:
    first, second = submit(cli, core)["id"], submit(cli, core)["id"]
    ok(approve(cli, first, BOSS))
    approved = as_json(cli("requests", "list", "--state", "manager_approved", "--json"))
    assert [r["id"] for r in approved["access_requests"]] == [first]
    page = as_json(cli("requests", "list", "--per-page", "1", "--json"))
    assert page["count"] == 2 and [r["id"] for r in page["access_requests"]] == [second]
    refused(cli("requests", "list", "--state", "pending"), "state", "unknown state")


def test_a_provisioner_issues_a_personal_exception_token(people: None, cli: Cli) -> None:
    created = as_json(cli("tokens", "create", "--exception", "personal", "--as", PROVISIONER,
                          "--json"))["api_token"]
    assert created["description"] == "Pat Rov - personal" and created["kind"] == "personal"
    assert created["token"].startswith("tkry_")


def test_a_provisioner_issues_a_target_exception_token_bound_to_a_service_user(
    people: None, cli: Cli
) -> None:
    refused(cli("tokens", "create", "--exception", "target", "--target", "Jira webhook",
                "--as", PROVISIONER), "service user")
    ok(cli("users", "create", "--email", "jira-bot@example.com", "--name", "Jira bot",
           "--role", "admin"))
    created = as_json(cli("tokens", "create", "--exception", "target", "--target",
                          "Jira webhook", "--user", "jira-bot@example.com", "--as", PROVISIONER,
                          "--json"))["api_token"]
    bot = as_json(cli("users", "show", "jira-bot@example.com", "--json"))["user"]
    assert created["description"] == "Target - Jira webhook" and created["user_id"] == bot["id"]


def test_an_automation_exception_token_needs_a_use_case(people: None, cli: Cli) -> None:
    refused(cli("tokens", "create", "--exception", "automation", "--as", PROVISIONER),
            "--use-case")
    created = as_json(cli("tokens", "create", "--exception", "automation", "--use-case",
                          "nightly sync", "--as", PROVISIONER, "--json"))["api_token"]
    assert created["description"] == "Pat Rov - nightly sync"


def test_exception_tokens_are_refused_to_anyone_but_a_provisioner(people: None,
                                                                  cli: Cli) -> None:
    refused(cli("tokens", "create", "--exception", "personal", "--as", REQUESTER),
            "Only a provisioner")
    refused(cli("tokens", "create", "--exception", "personal", "--as", BOSS),
            "Only a provisioner")


def test_exception_tokens_refuse_a_description_and_bind_a_named_user(people: None,
                                                                     cli: Cli) -> None:
    refused(cli("tokens", "create", "--exception", "personal", "--description", "mine",
                "--as", PROVISIONER), "--description")
    personal = as_json(cli("tokens", "create", "--exception", "personal", "--user", REQUESTER,
                           "--as", PROVISIONER, "--json"))["api_token"]
    assert personal["description"] == "Ria Quest - personal"
    refused(cli("tokens", "create", "--target", "Jira", "--as", PROVISIONER), "--exception")
    assert cli("tokens", "create", "--exception", "forever").exit_code == 2


BOT = "integration.bot@example.com"
CALLBACK = "https://sync.example.com/callback"


@pytest.fixture
def integration_bot(people: None, cli: Cli) -> None:
    ok(cli("users", "create", "--email", BOT, "--name", "Integration bot", "--role", "admin"))
    ok(cli("settings", "set", "integration_bot", BOT))


def test_an_integration_request_goes_from_the_command_line_to_its_client(
        integration_bot: None, core: Core, cli: Cli) -> None:
    asked = ("--kind", "integration", "--scope", "tickets:read", "--scope", "users:read",
             "--redirect-uri", CALLBACK)
    request = submit(cli, core, *asked)
    assert (request["kind"], request["scopes"], request["client_kind"]) == (
        "integration", ["tickets:read", "users:read"], "confidential")
    assert request["redirect_uris"] == [CALLBACK]
    said = ok(cli("requests", "submit", "--service", "Billing", "--purpose", "p",
                  "--use-case", "u", "--removal-date", removal_date(core), "--justification",
                  "j", "--as", REQUESTER, "--kind", "integration",
                  "--scope", "tickets:read users:read", "--client-kind", "public",
                  "--redirect-uri", CALLBACK)).output
    assert said.startswith("Submitted integration request ")
    second = as_json(cli("requests", "show", said.split()[3].rstrip(":"), "--json"))
    assert second["access_request"]["scopes"] == ["tickets:read", "users:read"]
    assert second["access_request"]["client_kind"] == "public"

    shown = ok(cli("requests", "show", str(request["id"]), "--as", BOSS)).output
    assert re.search(r"kind\s+│\s+integration", shown)
    assert re.search(r"scopes\s+│\s+tickets:read users:read", shown)
    assert "['" not in shown  # lists as words, not as Python's repr

    ok(approve(cli, request["id"], BOSS))
    summary = ok(approve(cli, request["id"], PROVISIONER)).output
    client_id = as_json(cli("requests", "show", str(request["id"]), "--json"))[
        "access_request"]["oauth_client_id"]
    assert f"is now issued (OAuth client {client_id}, made as the Integration bot" in \
        " ".join(summary.split())
    listed = ok(cli("requests", "list", "--state", "issued", "--as", PROVISIONER)).output
    lines = listed.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith(
        f"{request['id']} "))
    assert "integration" in lines[first] and f"client {client_id}" in lines[first]
    assert "tickets:read" in lines[first + 1] and "users:read" in lines[first + 2]
    assert "…" not in listed  # every word shows in a terminal 80 columns wide


def test_an_api_token_request_may_ask_for_scopes(people: None, core: Core, cli: Cli) -> None:
    scoped = submit(cli, core, "--scope", "users:read")
    assert (scoped["kind"], scoped["scopes"], scoped["client_kind"]) == (
        "api_token", ["users:read"], None)
    assert submit(cli, core)["scopes"] is None
    listed = ok(cli("requests", "list", "--as", REQUESTER)).output
    assert "api_token" in listed and "users:read" in listed


def test_what_an_integration_request_lacks_is_named_by_its_flag(
        integration_bot: None, core: Core, cli: Cli) -> None:
    def filed(*asked: str) -> Any:
        return cli("requests", "submit", "--service", "Billing", "--purpose", "p",
                   "--use-case", "u", "--removal-date", removal_date(core),
                   "--justification", "j", "--as", REQUESTER, *asked)

    refused(filed("--kind", "integration"), "--scope: an integration request names the "
            "scopes it needs")
    refused(filed("--kind", "integration", "--scope", "users:read", "--client-kind", "public"),
            "--redirect-uri: a public client signs people in")
    refused(filed("--redirect-uri", CALLBACK),
            "--redirect-uri: only an integration request has a client kind")
    refused(filed("--kind", "integration", "--scope", "users:read", "--redirect-uri",
                  "http://example.com/cb"), "--redirect-uri")
    assert filed("--kind", "robot").exit_code == 2  # not a choice: the CLI's usage error
    assert as_json(cli("requests", "list", "--json"))["count"] == 0  # nothing was filed
