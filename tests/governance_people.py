"""The cast of the governance tests: a requester, their manager, two provisioners, an agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import basic
from tokenry.core import Core
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.users import create_user
from tokenry.storage.models import User

PASSWORD = "a long test password"


@dataclass(frozen=True)
class People:
    requester: str = "ria@example.com"
    manager: str = "boss@example.com"
    provisioner: str = "pat@example.com"
    other_provisioner: str = "pia@example.com"
    agent: str = "agent@example.com"


def cast(core: Core, admin: Actor, webhook_url: str = "http://127.0.0.1:9/hook") -> People:
    """The people, the shared webhook, and Slack direct messages as the private channel."""
    people = People()
    update_account_settings(core, admin, {"password_access": True, "webhook_url": webhook_url,
                                          "webhook_secret": "test-webhook-secret",
                                          "slack_bot_token": "xoxb-test-bot-token"})
    create_user(core, admin, email=people.manager, name="Bo Boss", role="admin",
                password=PASSWORD)
    # Ria holds admin tokens, so she is an admin: a token acts with its user's rights.
    create_user(core, admin, email=people.requester, name="Ria Quest", role="admin",
                password=PASSWORD, manager_email=people.manager)
    create_user(core, admin, email=people.provisioner, name="Pat Rov", role="admin",
                password=PASSWORD, provisioner=True)
    create_user(core, admin, email=people.other_provisioner, name="Pia Rov", role="admin",
                password=PASSWORD, provisioner=True)
    create_user(core, admin, email=people.agent, name="Al Agent", role="agent",
                password=PASSWORD, manager_email=people.manager)
    return people


def as_(email: str) -> dict[str, str]:
    return basic(email, PASSWORD, token=False)


def request_body(removal: date | None = None, **extra: Any) -> dict[str, Any]:
    fields = {"service_name": "Zendesk export", "purpose": "Nightly ticket export",
              "use_case": "A script reads tickets for the warehouse",
              "removal_date": (removal or datetime.now(UTC).date()
                               + timedelta(days=30)).isoformat(),
              "admin_justification": "Only admins can read all tickets"}
    fields.update(extra)
    return {"access_request": fields}


def submit(client: TestClient, people: People, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v2/access_requests.json", headers=as_(people.requester),
                           json=request_body(**extra))
    assert response.status_code == 201, response.text
    return response.json()["access_request"]  # type: ignore[no-any-return]


def approve(client: TestClient, email: str, request_id: int,
            stage: str | None = None) -> Any:
    body = {"stage": stage} if stage else None
    return client.post(f"/api/v2/access_requests/{request_id}/approve.json",
                       headers=as_(email), json=body)


def issue(client: TestClient, people: People, **extra: Any) -> dict[str, Any]:
    request = submit(client, people, **extra)
    assert approve(client, people.manager, request["id"], "manager").status_code == 200
    issued = approve(client, people.provisioner, request["id"], "provisioner")
    assert issued.status_code == 200, issued.text
    return issued.json()["access_request"]  # type: ignore[no-any-return]


def add_user(core: Core, admin: Actor, email: str, *, role: str = "admin",
             provisioner: bool = False, manager: str | None = None) -> User:
    """A user named after their email (``pat@x`` is ``Pat``)."""
    return create_user(core, admin, email=email, name=email.split("@")[0].title(), role=role,
                       manager_email=manager, provisioner=provisioner)


def actor_of(user: User) -> Actor:
    """Acting as ``user`` with a credential that proves them (as a password would)."""
    return Actor(account_id=user.account_id, user_id=user.id, label=user.email,
                 credential="password", proves_person=True)
