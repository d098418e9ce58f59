"""The verification cache: an entry lives for the TTL or until what it holds stops being true,
whichever is sooner. On real time an expiring credential's entry simply ends at the
credential's deadline (no clock read of its own per hit); on a test's clock the deadline is
compared on every hit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ADMIN_EMAIL, Clock, basic
from tokenry.auth.cache import MISSING, TTLCache
from tokenry.auth.lookups import Lookups
from tokenry.auth.verifier import Verifier
from tokenry.core import Core
from tokenry.domain.errors import Unauthenticated
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token


class Seconds:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_the_ttl_or_until_its_own_end_if_sooner() -> None:
    seconds = Seconds()
    cache = TTLCache(ttl=60, clock=seconds)
    cache.put("plain", 1)
    cache.put("short", 2, within=5)
    cache.put("long", 3, within=600)  # never past the TTL
    cache.put("over", 4, within=0)  # already untrue: not kept
    seconds.now += 4.9
    assert [cache.get(k) for k in ("plain", "short", "long")] == [1, 2, 3]
    assert cache.get("over") is MISSING
    seconds.now += 0.2
    assert cache.get("short") is MISSING and cache.get("plain") == 1
    seconds.now += 55
    assert cache.get("plain") is MISSING and cache.get("long") is MISSING


def header_expiring_in(core: Core, admin_actor: Actor, clock: Clock, minutes: int) -> str:
    secret = create_token(core, admin_actor, description="expiring",
                          expires_at=clock.now + timedelta(minutes=minutes)).secret
    return basic(ADMIN_EMAIL, secret)["Authorization"]


def test_on_real_time_an_expiring_tokens_entry_ends_at_its_deadline(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    """The server's set-up (a wall clock in seconds given): the hit path reads no deadline,
    so the entry itself must end with the token, long before the hour's TTL."""
    seconds = Seconds()
    seconds.now = clock.now.timestamp()  # one time for the cache, the verifier and the token
    verifier = Verifier(core.hasher, Lookups(core.db), TTLCache(ttl=3600, clock=seconds),
                        lambda: datetime.fromtimestamp(seconds.now, UTC), timestamp=seconds)
    header = header_expiring_in(core, admin_actor, clock, 10)
    assert verifier.authenticate_header("default", header).user.email == ADMIN_EMAIL
    seconds.now += 9 * 60
    assert verifier.authenticate_header("default", header, cached_only=True).user.email \
        == ADMIN_EMAIL  # a hit
    seconds.now += 61
    with pytest.raises(Unauthenticated):
        verifier.authenticate_header("default", header, cached_only=True)


def test_on_a_moved_clock_the_deadline_is_checked_on_every_hit(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    verifier = Verifier(core.hasher, Lookups(core.db), TTLCache(ttl=3600), clock)
    header = header_expiring_in(core, admin_actor, clock, 10)
    assert verifier.authenticate_header("default", header).user.email == ADMIN_EMAIL
    clock.now += timedelta(minutes=11)
    with pytest.raises(Unauthenticated):
        verifier.authenticate_header("default", header)
