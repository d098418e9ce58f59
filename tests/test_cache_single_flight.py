"""The verification cache under load: bounded eviction, one database lookup for concurrent
misses (real threads), refresh-ahead, and no stale answer kept across a clear."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

import pytest

from tests.conftest import ADMIN_EMAIL, basic
from tests.live import http, live_server
from tokenry.auth.cache import DUE, MISSING, TTLCache
from tokenry.auth.lookups import Lookups
from tokenry.auth.misses import AsyncMisses
from tokenry.auth.records import Identity, TokenRecord
from tokenry.auth.verifier import NeedsLookup, Verifier
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.domain import oauth
from tokenry.domain.errors import Unauthenticated
from tokenry.operations.context import Actor
from tokenry.operations.update_token import update_token

V = TypeVar("V")
THREADS = 8
WAIT = 20.0  # seconds: a deadline for events on a busy machine, never a sleep


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingCache(TTLCache):
    """A real cache that counts the callers that have entered :meth:`load`, per key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered: Counter[Hashable] = Counter()

    def load(self, key: Hashable, loader: Callable[[], V], *,
             within: Callable[[V], float | None] | None = None) -> V:
        self.entered[key] += 1
        return super().load(key, loader, within=within)

    def wait_for(self, key_length: int, callers: int) -> None:
        """Until ``callers`` have entered load() for one key of ``key_length`` bytes (the
        header digest): they are all behind the one flight, which is held open."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if any(isinstance(k, bytes) and len(k) == key_length and n >= callers
                   for k, n in list(self.entered.items())):
                return
            time.sleep(0.005)
        raise AssertionError(f"only {dict(self.entered)} callers entered load()")


class HeldLookups(Lookups):
    """The real queries; a token lookup is counted and waits until the test releases it,
    and the first one can be made to fail."""

    def __init__(self, core: Core, *, fail_first: bool = False) -> None:
        super().__init__(core.db)
        self.token_lookups = 0
        self.release = threading.Event()
        self._fail = fail_first

    def token(self, secret_hash: str) -> TokenRecord | None:
        self.token_lookups += 1
        assert self.release.wait(WAIT)
        if self._fail:
            self._fail = False
            raise RuntimeError("the database went away")
        return super().token(secret_hash)


def verifier_for(core: Core, lookups: Lookups, cache: TTLCache) -> Verifier:
    return Verifier(core.hasher, lookups, cache, core.clock,
                    access_prefix=oauth.prefix_for(core.settings.token_prefix, oauth.ACCESS)
                    + "_")


# --- bounded -------------------------------------------------------------------------------


def test_a_full_cache_drops_its_oldest_entry_and_counts_it() -> None:
    cache = TTLCache(ttl=60, max_entries=3)
    for key in "abcd":
        cache.put(key, key.upper())
    assert len(cache) == 3 and cache.evictions == 1
    assert cache.get("a") is MISSING
    assert [cache.get(k) for k in "bcd"] == ["B", "C", "D"]


def test_an_entry_stored_again_counts_as_new_when_the_cache_is_full() -> None:
    cache = TTLCache(ttl=60, max_entries=3)
    for key in "abc":
        cache.put(key, 1)
    cache.put("a", 2)  # a refresh: "b" is now the oldest
    cache.put("d", 1)
    assert cache.get("a") == 2 and cache.get("b") is MISSING and cache.evictions == 1


def test_entries_stored_together_do_not_all_end_together() -> None:
    seconds = Seconds()
    cache = TTLCache(ttl=100, clock=seconds, jitter=0.1)
    for key in range(100):
        cache.put(key, key)
    seconds.now += 95  # every lifetime lies between 90 and 100 seconds
    alive = sum(cache.get(key) is not MISSING for key in range(100))
    assert 0 < alive < 100
    seconds.now += 5
    assert all(cache.get(key) is MISSING for key in range(100))


# --- refresh-ahead and generations --------------------------------------------------------


def test_one_caller_is_elected_to_refresh_an_entry_near_its_end() -> None:
    seconds = Seconds()
    cache = TTLCache(ttl=10, clock=seconds, jitter=0, refresh_ahead=0.2)
    cache.put("k", "old")
    seconds.now += 7.9
    assert cache.lookup("k") == "old"
    seconds.now += 0.2  # in the last fifth of its life
    assert cache.lookup("k") is DUE
    assert cache.lookup("k") == "old" and cache.get("k") == "old"  # the others are served
    assert cache.load("k", lambda: "new") == "new"
    assert cache.lookup("k") == "new"
    seconds.now += 9
    assert cache.lookup("k") is DUE  # a new life, with its own refresh point


def test_an_entry_that_ends_with_its_credential_is_not_refreshed_early() -> None:
    seconds = Seconds()
    cache = TTLCache(ttl=100, clock=seconds, jitter=0)
    cache.put("k", "v", within=10)
    seconds.now += 9.9
    assert cache.lookup("k") == "v"
    seconds.now += 0.2
    assert cache.lookup("k") is MISSING


def test_a_load_that_began_before_a_clear_keeps_nothing() -> None:
    cache = TTLCache(ttl=60)
    cleared_meanwhile = []

    def loader() -> str:
        cache.clear()  # an identity change commits while the query runs
        cleared_meanwhile.append(True)
        return "read before the change"

    assert cache.load("k", loader) == "read before the change"
    assert cleared_meanwhile and cache.get("k") is MISSING


# --- single flight, real threads ----------------------------------------------------------


def test_concurrent_misses_for_one_header_make_one_database_lookup(
        core: Core, admin_secret: str) -> None:
    lookups = HeldLookups(core)
    cache = CountingCache(ttl=60)
    verifier = verifier_for(core, lookups, cache)
    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
    with ThreadPoolExecutor(THREADS) as pool:
        answers = [pool.submit(verifier.authenticate_header, "default", header)
                   for _ in range(THREADS)]
        cache.wait_for(32, THREADS)
        lookups.release.set()
        identities = [answer.result(WAIT) for answer in answers]
    assert lookups.token_lookups == 1
    assert {identity.user.email for identity in identities} == {ADMIN_EMAIL}


def test_a_failed_lookup_reaches_every_waiter_and_is_not_kept(
        core: Core, admin_secret: str) -> None:
    lookups = HeldLookups(core, fail_first=True)
    cache = CountingCache(ttl=60)
    verifier = verifier_for(core, lookups, cache)
    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
    with ThreadPoolExecutor(THREADS) as pool:
        answers = [pool.submit(verifier.authenticate_header, "default", header)
                   for _ in range(THREADS)]
        cache.wait_for(32, THREADS)
        lookups.release.set()
        for answer in answers:
            with pytest.raises(RuntimeError, match="went away"):
                answer.result(WAIT)
    assert lookups.token_lookups == 1
    assert len(cache) == 1  # the account, found before the token's lookup failed
    # nothing poisoned: the next caller looks again and succeeds
    assert verifier.authenticate_header("default", header).user.email == ADMIN_EMAIL
    assert lookups.token_lookups == 2


class ThreadPathOnly(AsyncMisses):
    """Sends every miss to the thread path, as SQLite does."""

    async def authenticate_header(self, subdomain: str, header: str | None,
                                  needed: NeedsLookup) -> Identity | None:
        return None


def test_concurrent_http_misses_for_one_token_make_one_database_lookup(
        core: Core, admin_secret: str) -> None:
    """The HTTP dependency's thread path (SQLite's, and PostgreSQL's for what the event loop
    does not read): concurrent misses share one lookup. (The event loop's own single flight:
    tests/test_cache_miss.py.)"""
    lookups = HeldLookups(core)
    cache = CountingCache(ttl=60)
    verifier = verifier_for(core, lookups, cache)
    served = replace(core, verifier=verifier,
                     misses=ThreadPathOnly(verifier, lookups, core.hasher, 1))
    auth = basic(ADMIN_EMAIL, admin_secret)
    with live_server(served) as url, ThreadPoolExecutor(THREADS) as pool:
        answers = [pool.submit(http.get, f"{url}/api/v2/users/me.json", headers=auth)
                   for _ in range(THREADS)]
        cache.wait_for(32, THREADS)
        lookups.release.set()
        statuses = [answer.result(WAIT).status_code for answer in answers]
    assert statuses == [200] * THREADS
    assert lookups.token_lookups == 1


# --- a refresh reads the database, not the cache ------------------------------------------


def test_a_refresh_sees_a_change_the_cache_was_not_told_of(
        core: Core, settings: Settings, admin_actor: Actor, admin_secret: str) -> None:
    seconds = Seconds()
    lookups = HeldLookups(core)
    lookups.release.set()
    verifier = verifier_for(core, lookups, TTLCache(ttl=10, clock=seconds, jitter=0))
    header = basic(ADMIN_EMAIL, admin_secret)["Authorization"]
    identity = verifier.authenticate_header("default", header)
    assert identity.token_id is not None
    other = build_core(settings)  # another process: this verifier's cache hears nothing
    try:
        update_token(other, admin_actor, identity.token_id, {"active": False})
    finally:
        other.close()
    seconds.now += 8.5
    with pytest.raises(NeedsLookup) as elected:
        verifier.authenticate_header("default", header, cached_only=True)
    assert elected.value.refresh
    # meanwhile everyone else is still served (the change is within the TTL's bound)
    assert verifier.authenticate_header("default", header, cached_only=True) == identity
    with pytest.raises(Unauthenticated):
        verifier.authenticate_header("default", header, refresh=True)
    assert lookups.token_lookups == 2  # the refresh looked again, though "token" was cached
    with pytest.raises((Unauthenticated, NeedsLookup)):  # and the stale answer is gone
        verifier.authenticate_header("default", header, cached_only=True)


def test_evictions_are_counted_in_the_metrics(core: Core) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from tokenry.observe.scrape import ScrapeCollector

    cache = TTLCache(ttl=60, max_entries=2)
    registry = CollectorRegistry()
    registry.register(ScrapeCollector(core.db, cache, core.clock))
    for key in range(5):
        cache.put(key, key)
    scraped = generate_latest(registry).decode()
    assert "tokenry_verify_cache_evictions_total 3.0" in scraped
    assert "tokenry_verify_cache_entries 2.0" in scraped


def test_a_value_read_before_a_clear_is_not_kept() -> None:
    """The event loop's reads are kept with the generation taken before them: one that an
    identity change overtook may be stale (a deactivation read as active) and is dropped."""
    cache = TTLCache(ttl=60)
    before = cache.generation
    cache.clear()  # a deactivation commits while the read is in flight
    cache.put("token", "active", generation=before)
    assert cache.get("token") is MISSING
    cache.put("token", "inactive", generation=cache.generation)
    assert cache.get("token") == "inactive"
