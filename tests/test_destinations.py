"""Notifications are not a way into the server's own network (SSRF)."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.receivers import HttpReceiver
from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.notify.destinations import (
    Destination,
    DestinationRefused,
    check_destination,
    is_public,
)
from tokenry.notify.outbox import Message, enqueue
from tokenry.notify.worker import deliver_due
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.bootstrap import bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.storage.models import AccountSetting, Notification


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/x", "http://169.254.169.254/latest", "http://10.0.0.5/hook",
    "http://[::1]/hook", "http://localhost/hook", "ftp://example.com/x",
    # special-purpose ranges that ipaddress.is_global calls global
    "http://[64:ff9b::a00:1]/nat64-to-10.0.0.1", "http://192.0.0.9/ietf", "http://[2002::1]/6to4",
    "http://192.88.99.1/relay", "http://[2620:4f:8000::1]/as112", "http://224.0.0.1/multicast",
    "http://[::ffff:10.0.0.1]/mapped", "http://[3fff::1]/documentation",
    "http://192.0.2.1/test-net", "http://100.64.0.1/cgnat", "http://example.com:99999/bad-port",
])
def test_private_special_and_odd_destinations_are_refused(url: str) -> None:
    with pytest.raises(DestinationRefused):
        check_destination(url, allow_private=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_the_operator_can_allow_receivers_inside_the_network() -> None:
    assert check_destination("http://10.0.0.5/hook", allow_private=True).address is None


@pytest.mark.parametrize(("address", "pinned"), [
    ("93.184.215.14", "https://93.184.215.14:8443/hook?x=1"),
    ("2606:2800:21f:cb07::1", "https://[2606:2800:21f:cb07::1]:8443/hook?x=1"),
])
def test_a_checked_destination_connects_to_the_address_it_checked(address: str,
                                                                  pinned: str) -> None:
    checked = Destination("https://hooks.example.com:8443/hook?x=1", "hooks.example.com", address)
    assert checked.pinned_url() == pinned
    assert checked.host_header() == "hooks.example.com:8443"  # the name still picks the vhost


def test_a_pinned_request_reaches_the_address_with_the_original_host(hooks: HttpReceiver) -> None:
    checked = Destination(f"http://hooks.example.com:{hooks.port}/hook", "hooks.example.com",
                          "127.0.0.1")
    with httpx.Client() as client:
        client.post(checked.pinned_url(), content=b"{}", headers={"Host": checked.host_header()})
    [received] = hooks.requests
    assert received.headers["host"] == f"hooks.example.com:{hooks.port}"


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private": False}])
@pytest.mark.parametrize("key", ["webhook_url", "slack_webhook_url"])
def test_a_webhook_aimed_inside_the_network_is_refused_when_saved(
    core: Core, admin_actor: Actor, settings_overrides: dict[str, Any], key: str
) -> None:
    with pytest.raises(Invalid) as refused:
        update_account_settings(core, admin_actor, {key: "http://localhost:8080/internal"})
    assert key in refused.value.details and "non-public" in refused.value.details[key][0]


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private": False}])
def test_a_webhook_that_turned_private_after_it_was_saved_is_never_called(
    core: Core, admin_actor: Actor, hooks: HttpReceiver, settings_overrides: dict[str, Any]
) -> None:
    # Saved while its name resolved to a public address; it now resolves inside the network.
    with core.db.transaction() as session:
        session.merge(AccountSetting(account_id=admin_actor.account_id, key="webhook_url",
                                     value=hooks.url("/internal")))
    admin = bootstrap_admin(core)
    assert admin is not None
    with core.db.transaction() as session:
        enqueue(session, core, admin.account_id, Message("test.event", "ssrf", "s", "t"),
                [admin])
    report = deliver_due(core)
    assert report.sent == 0 and hooks.requests == []
    with core.db.read() as session:
        row = session.scalars(select(Notification)).one()
    assert row.last_error is not None and "non-public address" in row.last_error
