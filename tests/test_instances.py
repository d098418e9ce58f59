"""Each account names itself in every message and page, with its own base URL and sender."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.governance_people import People, approve, as_, cast, submit
from tests.test_governance import delivery_secret
from tokenry.core import Core
from tokenry.domain import sealed
from tokenry.notify.outbox import Message, enqueue
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.storage.models import Notification


def test_messages_and_pages_name_the_instance_and_use_its_base_url(
    client: TestClient, core: Core, admin_actor: Actor
) -> None:
    people: People = cast(core, admin_actor)
    update_account_settings(core, admin_actor, {"display_name": "Acme US Gov",
                                                "base_url": "https://gov.example.com/"})
    request = submit(client, people)
    approve(client, people.manager, request["id"], "manager")
    approve(client, people.provisioner, request["id"], "provisioner")
    with core.db.read() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert rows and all(row.subject.startswith("[Acme US Gov] ") for row in rows)
    assert all("-- Acme US Gov (https://gov.example.com)" in row.body for row in rows)
    [dm] = [r for r in rows if r.channel == "slack_dm"]
    private = sealed.unseal(core.server_key, sealed.OUTBOX, dm.sealed or "")
    assert private is not None and "https://gov.example.com/deliveries/" in private
    assert all("https://gov.example.com/requests/" in row.body for row in rows
               if row.event.startswith("request."))
    shown = client.get(f"/api/v2/access_requests/{request['id']}.json",
                       headers=as_(people.requester)).json()["access_request"]
    assert shown["url"] == f"https://gov.example.com/requests/{request['id']}"
    page = client.get(f"/deliveries/{delivery_secret(core, request['id'])}")
    assert "Your API token for Acme US Gov" in page.text


def test_an_account_without_a_display_name_is_named_by_its_account_name(
    core: Core
) -> None:
    other = create_account(core, subdomain="global", name="Acme Global")
    update_account_settings(core, Actor.system(other.id),
                            {"webhook_url": "http://127.0.0.1:9/hook"})
    with core.db.transaction() as session:
        enqueue(session, core, other.id, Message("test.event", "k", "Hello", "text"), [])
    with core.db.read() as session:
        [row] = session.scalars(select(Notification)).all()
    assert row.subject == "[Acme Global] Hello"
    assert row.payload["instance"] == {"name": "Acme Global", "base_url": "http://testserver"}
