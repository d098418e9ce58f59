"""``tokenry users invite``: the same invitation as the Admin Center's, from the command line."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import ADMIN_EMAIL, Clock
from tests.receivers import SmtpReceiver
from tests.test_cli import Cli, as_json, ok
from tokenry.core import Core
from tokenry.notify.worker import deliver_due
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor


@pytest.fixture
def settings_overrides(smtp: SmtpReceiver) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_from": "tokenry@example.com"}


@pytest.fixture
def cli_env(cli_env: dict[str, str], smtp: SmtpReceiver) -> dict[str, str]:
    return {**cli_env, "TOKENRY_SMTP_HOST": "127.0.0.1", "TOKENRY_SMTP_PORT": str(smtp.port),
            "TOKENRY_SMTP_FROM": "tokenry@example.com"}


def test_invite_sends_a_one_time_link_by_email(core: Core, cli: Cli, smtp: SmtpReceiver,
                                              clock: Clock) -> None:
    ok(cli("users", "create", "--email", "new@example.com", "--name", "New Person"))
    invited = as_json(cli("users", "invite", "New@Example.com", "--json"))["invitation"]
    assert invited["email"] == "new@example.com" and invited["expires_at"]
    clock.now = datetime.now(UTC)  # the command ran on the real clock, after the test's
    assert deliver_due(core).sent == 1
    [mail] = smtp.messages
    assert mail.recipients == ["new@example.com"]
    assert re.search(r"http://testserver/invitations/\S+", mail.message.get_content())
    again = ok(cli("users", "invite", "new@example.com"))
    assert "Invitation sent to new@example.com" in again.stdout


def test_invite_refusals_are_clear(core: Core, cli: Cli, admin_actor: Actor) -> None:
    has_password = cli("users", "invite", ADMIN_EMAIL)
    assert has_password.exit_code == 1 and "already has a password" in has_password.output
    missing = cli("users", "invite", "nobody@example.com")
    assert missing.exit_code == 1 and "no user" in missing.output
    ok(cli("users", "create", "--email", "new@example.com", "--name", "New Person"))
    update_account_settings(core, admin_actor, {"notify_email": False})
    no_channel = cli("users", "invite", "new@example.com")
    assert no_channel.exit_code == 1 and "No private channel can reach" in no_channel.output
