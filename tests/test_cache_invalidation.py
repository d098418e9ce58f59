"""How long the verification cache may trust itself: long while the invalidation watcher is
connected, short while it is not; and which commits clear it (a new API token does not)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.conftest import ADMIN_EMAIL, basic
from tokenry.auth.cache import MISSING
from tokenry.auth.invalidation import InvalidationWatcher
from tokenry.auth.verifier import NeedsLookup
from tokenry.config import Settings
from tokenry.core import Core, build_core, watch_identity_changes
from tokenry.domain.errors import NotFound, Unauthenticated
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.update_token import update_token
from tokenry.operations.users import create_user

WAIT = 20.0


def refused_within(core: Core, header: str, seconds: float = WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            core.verifier.authenticate_header("default", header)
        except Unauthenticated:
            return True
        time.sleep(0.01)
    return False


def deactivate_elsewhere(settings: Settings, actor: Actor, token_id: int) -> None:
    """As the CLI would: another Core on the same database, whose commit hook is its own."""
    other = build_core(settings)
    try:
        update_token(other, actor, token_id, {"active": False})
    finally:
        other.close()


def test_while_the_watcher_listens_entries_live_long_and_other_processes_changes_are_seen(
        core: Core, settings: Settings, admin_actor: Actor, admin_secret: str) -> None:
    assert core.cache.ttl == settings.verify_cache_ttl == 2  # no watcher yet
    watcher = watch_identity_changes(core)
    try:
        assert watcher.ready.wait(WAIT)
        deadline = time.monotonic() + WAIT
        while core.cache.ttl != settings.verify_cache_ttl_listening:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert core.cache.ttl == 300
        header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
        identity = core.verifier.authenticate_header("default", header)
        assert identity.token_id is not None
        deactivate_elsewhere(settings, admin_actor, identity.token_id)
        assert refused_within(core, header)  # within the poll, not the 300 s
    finally:
        watcher.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_losing_the_watchers_connection_clears_the_cache_and_shortens_its_ttl(
        core: Core) -> None:
    seen: list[tuple[bool, float]] = []

    def listening(connected: bool) -> None:
        core.listening(connected)
        seen.append((connected, core.cache.ttl))

    watcher = InvalidationWatcher(core.settings.database_url, core.cache.clear,
                                  on_listening=listening)
    watcher.start()
    try:
        assert watcher.ready.wait(WAIT)
        core.cache.put("sentinel", 1)
        with core.db.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                               {"pid": watcher.backend_pid})
        deadline = time.monotonic() + WAIT
        while len(seen) < 3 and time.monotonic() < deadline:  # lost, then back
            time.sleep(0.01)
        assert seen[:3] == [(True, 300), (False, 2), (True, 300)]
        assert core.cache.get("sentinel") is MISSING
    finally:
        watcher.stop()


def test_without_the_watcher_the_short_ttl_bounds_staleness(
        core: Core, settings: Settings, admin_actor: Actor, admin_secret: str) -> None:
    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
    identity = core.verifier.authenticate_header("default", header)
    assert identity.token_id is not None
    deactivate_elsewhere(settings, admin_actor, identity.token_id)
    # not told: served from memory for now, but only for the short TTL
    assert core.verifier.authenticate_header("default", header, cached_only=True) == identity
    assert core.cache.ttl == 2
    assert refused_within(core, header, seconds=2 + WAIT)


def test_issuing_an_api_token_keeps_the_cache(core: Core, admin_actor: Actor,
                                              admin_secret: str) -> None:
    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
    core.verifier.authenticate_header("default", header)
    cached = len(core.cache)
    create_token(core, admin_actor, description="another")
    assert len(core.cache) == cached
    core.verifier.authenticate_header("default", header, cached_only=True)  # still a hit


def test_a_new_user_clears_a_cached_no_for_their_email(
        core: Core, admin_actor: Actor, admin_secret: str) -> None:
    header = basic("later@example.test", admin_secret)["Authorization"]
    with pytest.raises(Unauthenticated):
        core.verifier.authenticate_header("default", header)  # "no such user" is now cached
    with pytest.raises(Unauthenticated):
        core.verifier.authenticate_header("default", header, cached_only=True)
    create_user(core, admin_actor, email="later@example.test", name="Later", role="admin")
    assert core.verifier.authenticate_header("default", header).user.email \
        == "later@example.test"


def test_a_new_account_clears_a_cached_no_for_its_subdomain(core: Core) -> None:
    with pytest.raises(NotFound):
        core.verifier.account("acme")
    assert core.cache.get(("account", "acme")) is None  # the cached "no"
    create_account(core, subdomain="acme")
    assert core.verifier.account("acme").subdomain == "acme"


def test_a_token_change_still_clears_the_cache(core: Core, admin_actor: Actor,
                                                admin_secret: str) -> None:
    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
    identity = core.verifier.authenticate_header("default", header)
    assert identity.token_id is not None
    update_token(core, admin_actor, identity.token_id, {"description": "renamed"})
    assert len(core.cache) == 0
    with pytest.raises(NeedsLookup):
        core.verifier.authenticate_header("default", header, cached_only=True)
