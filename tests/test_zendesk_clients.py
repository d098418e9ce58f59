"""Real Zendesk clients against a live tokenry: zenpy (PyPI) and node-zendesk (npm, newest major
and 2.x), configured only through their own options, authenticating as Zendesk scripts do
(``email/token:SECRET``).

node-zendesk comes from ``tests/zendesk_node/package-lock.json`` by ``npm ci``, once per run,
into ``tests/zendesk_node/node_modules`` (git-ignored). Without node or npm these tests skip
with a warning; in CI (``CI`` set, or ``TOKENRY_REQUIRE_NODE=1``) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select
from zenpy import Zenpy

from tests.conftest import ADMIN_EMAIL, Clock
from tests.live import live_server
from tokenry.core import Core
from tokenry.operations.context import Actor
from tokenry.operations.users import create_user
from tokenry.storage.models import AuditEvent, User

NODE_DIR = Path(__file__).parent / "zendesk_node"
REQUIRE_NODE = os.environ.get("TOKENRY_REQUIRE_NODE") == "1" or bool(os.environ.get("CI"))
SEEDED_USERS = 120  # past one page of 100, so every list has a second page
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass
class Site:
    """A live tokenry with more users and audit events than one page holds."""

    url: str
    secret: str
    core: Core
    actor: Actor
    late_user_ids: list[int]  # created an hour after the rest: a created_at range finds them

    def user_ids(self) -> list[int]:
        with self.core.db.read() as session:
            return list(session.scalars(select(User.id).where(
                User.account_id == self.actor.account_id).order_by(User.id)))

    def audit_ids(self) -> list[int]:
        """Newest first, as the API lists them."""
        with self.core.db.read() as session:
            return list(session.scalars(select(AuditEvent.id).where(
                AuditEvent.account_id == self.actor.account_id).order_by(
                AuditEvent.created_at.desc(), AuditEvent.id.desc())))


@pytest.fixture
def site(core: Core, admin_actor: Actor, admin_secret: str, clock: Clock) -> Iterator[Site]:
    for number in range(SEEDED_USERS):
        create_user(core, admin_actor, email=f"agent{number}@example.com",
                    name=f"Agent {number}", role="agent")
    clock.now += timedelta(hours=1)
    late = [create_user(core, admin_actor, email=f"late{number}@example.com",
                        name=f"Late {number}").id for number in range(3)]
    with live_server(core) as url:
        yield Site(url=url, secret=admin_secret, core=core, actor=admin_actor,
                   late_user_ids=late)


def once_each(ids: list[int]) -> list[int]:
    """The ids seen more than once (none, when a client neither repeats nor loses a page)."""
    return sorted(i for i, seen in Counter(ids).items() if seen > 1)


# zenpy ---------------------------------------------------------------------------------------


@dataclass
class ZenpyRun:
    client: Zenpy
    session: requests.Session
    sent: list[str]  # every URL zenpy requested, in order


@pytest.fixture
def zenpy_run(site: Site, monkeypatch: pytest.MonkeyPatch) -> ZenpyRun:
    # zenpy builds https://{subdomain}.{domain}; these two variables are its own way to send
    # the same requests to another host and scheme (added for test servers, zenpy PR #406).
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", urlsplit(site.url).netloc)
    session = requests.Session()
    sent: list[str] = []
    session.hooks["response"].append(lambda response, **_: sent.append(response.url))
    # With a proactive rate limit zenpy reads X-Rate-Limit-Remaining after every call, and
    # with a budget of one second it raises instead of waiting when that header is missing.
    client = Zenpy(subdomain="tokenry", email=ADMIN_EMAIL, token=site.secret, session=session,
                   timeout=10, proactive_ratelimit=10, ratelimit_budget=1)
    return ZenpyRun(client=client, session=session, sent=sent)


def test_zenpy_reads_the_current_user_and_every_user_once(site: Site,
                                                          zenpy_run: ZenpyRun) -> None:
    me = zenpy_run.client.users.me()
    assert (me.email, me.role) == (ADMIN_EMAIL, "admin")
    assert isinstance(me.id, int)
    assert me.created.utcoffset() == timedelta(0)  # zenpy parses Zendesk's timestamps
    late = zenpy_run.client.users(id=site.late_user_ids[0])
    assert (late.id, late.name) == (site.late_user_ids[0], "Late 0")

    ids = [user.id for user in zenpy_run.client.users()]

    assert once_each(ids) == []
    assert sorted(ids) == site.user_ids()
    assert len(ids) > 100
    pages = [url for url in zenpy_run.sent if urlsplit(url).path == "/api/v2/users.json"]
    assert len(pages) >= 2, pages


@sqlite_only
def test_zenpy_follows_cursor_links_through_the_users(site: Site, zenpy_run: ZenpyRun) -> None:
    ids = [user.id for user in zenpy_run.client.users()]  # zenpy asks with page[size]=100

    assert once_each(ids) == []
    assert sorted(ids) == site.user_ids()
    pages = [url for url in zenpy_run.sent if urlsplit(url).path == "/api/v2/users.json"]
    assert "page%5Bafter%5D=" in pages[1] or "page[after]=" in pages[1], pages


@sqlite_only
def test_zenpy_session_reads_and_writes_settings_and_filters_the_audit_log(
        site: Site, zenpy_run: ZenpyRun) -> None:
    # zenpy 2.0.57 has no account settings or audit log API: a zenpy script uses the session
    # zenpy authenticated, as here.
    api = f"{site.url}/api/v2"
    session = zenpy_run.session
    settings = session.get(f"{api}/account/settings.json", timeout=10)
    assert settings.status_code == 200
    assert settings.json()["settings"]["api"]["api_token_access"] == "true"
    changed = session.put(f"{api}/account/settings.json", timeout=10,
                          json={"settings": {"api": {"accepted_api_agreement": True}}})
    assert changed.status_code == 200
    assert changed.json()["settings"]["api"]["accepted_api_agreement"] is True

    found = session.get(f"{api}/audit_logs.json", timeout=10, params={
        "filter[source_type]": "apitoken", "filter[action]": "create"})

    assert found.status_code == 200
    events = found.json()["audit_logs"]
    assert [(e["source_type"], e["action"]) for e in events] == [("apitoken", "create")]


# node-zendesk --------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:
        if REQUIRE_NODE:
            pytest.fail(f"{name} is required here (CI) but is not installed")
        warnings.warn(f"NODE-ZENDESK TESTS SKIPPED: {name} is not installed "
                      "(apt-get install nodejs npm)", stacklevel=2)
        pytest.skip(f"{name} is not installed: node-zendesk not tested")
    return found


@pytest.fixture(scope="session")
def node() -> str:
    """node, with node-zendesk installed from the lock file (once per run)."""
    node, npm = _tool("node"), _tool("npm")
    assert node is not None and npm is not None
    subprocess.run([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund",
                    "--loglevel=error"], cwd=NODE_DIR, check=True, timeout=300,
                   capture_output=True)
    return node


def drive(node: str, site: Site, package: str, steps: str) -> dict[str, Any]:
    """Run ``drive.cjs`` with one node-zendesk and return what it printed."""
    late = _late_user_events(site)
    env = {**os.environ, "NODE_ZENDESK": package, "TOKENRY_URL": site.url,
           "ZENDESK_EMAIL": ADMIN_EMAIL, "ZENDESK_TOKEN": site.secret, "STEPS": steps,
           "AUDIT_SINCE": (late[0].created_at - timedelta(minutes=1)).isoformat(),
           "AUDIT_UNTIL": (late[0].created_at + timedelta(minutes=1)).isoformat()}
    done = subprocess.run([node, str(NODE_DIR / "drive.cjs")], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _events(site: Site) -> list[AuditEvent]:
    with site.core.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.account_id == site.actor.account_id).order_by(AuditEvent.id)))


def _late_user_events(site: Site) -> list[AuditEvent]:
    return [e for e in _events(site)
            if e.source_type == "user" and e.source_id in site.late_user_ids]


def check_full_run(site: Site, seen: dict[str, Any]) -> None:
    assert seen["me"]["email"] == ADMIN_EMAIL
    assert seen["me"]["role"] == "admin"
    assert seen["settings"]["api"]["api_token_access"] == "true"
    assert seen["settingsUpdated"]["api"]["accepted_api_agreement"] is True

    assert once_each(seen["userIds"]) == []
    assert sorted(seen["userIds"]) == site.user_ids()

    assert once_each(seen["auditIds"]) == []
    assert seen["auditIds"] == site.audit_ids()
    assert len(seen["auditIds"]) > 100
    created = seen["auditCreatedUsers"]
    assert {e["source_id"] for e in created} == set(site.user_ids())  # the admin too
    assert {(e["action"], e["source_type"]) for e in created} == {("create", "user")}
    assert set(seen["auditInRange"]) == {e.id for e in _late_user_events(site)}

    assert seen["refusedStatus"] == 401


def test_node_zendesk_newest_major_reads_settings_users_and_audit_log(site: Site,
                                                                     node: str) -> None:
    seen = drive(node, site, "node-zendesk", "me,settings,users,audit,refused")

    assert seen["client"]["version"].startswith("6.")
    check_full_run(site, seen)


@sqlite_only
def test_node_zendesk_2_reads_settings_users_and_audit_log(site: Site, node: str) -> None:
    seen = drive(node, site, "node-zendesk-2", "me,settings,users,audit,refused")

    assert seen["client"]["version"].startswith("2.")
    check_full_run(site, seen)


@sqlite_only
def test_node_zendesk_follows_cursor_links_through_the_audit_log(site: Site,
                                                                 node: str) -> None:
    seen = drive(node, site, "node-zendesk", "cursor")

    pages = seen["cursorPages"]
    ids = [i for page in pages for i in page["ids"]]
    assert once_each(ids) == []
    assert ids == site.audit_ids()
    assert [len(page["ids"]) for page in pages[:-1]] == [25] * (len(pages) - 1)
    assert not any(page["hasCount"] for page in pages)
    assert [page["meta"]["has_more"] for page in pages] == [True] * (len(pages) - 1) + [False]
    assert pages[-1]["links"]["next"] is None
