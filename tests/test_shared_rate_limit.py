"""The rate limit shared through Redis, two limiters (two nodes) on one real Redis: far from
the limit a request is counted in memory and reaches Redis at the next sync; near it, every
request is counted in Redis; with Redis down a node counts on from what it last saw."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.conftest import run_coroutine
from tests.live import free_port
from tests.many_nodes import REDIS_URL, forget, unique_prefix
from tokenry.auth.rate_limit import RateLimiter, RateState
from tokenry.auth.shared import SharedStore
from tokenry.domain.errors import RateLimited
from tokenry.observe.metrics import Metrics

NOW = 1_699_999_990.0  # 10 s into an epoch minute: 50 s until the window starts again
ACCOUNT = 7


@pytest.fixture
def prefix() -> Iterator[str]:
    name = unique_prefix()
    yield name
    forget(REDIS_URL, name)


STORES: dict[int, SharedStore] = {}


def node(url: str, prefix: str) -> RateLimiter:
    store = SharedStore(url, prefix, 0.5, Metrics(), wall=lambda: NOW)
    limiter = RateLimiter(shared=store, wall=lambda: NOW, sync_interval=3600)  # syncs by hand
    STORES[id(limiter)] = store
    return limiter


def hit(limiter: RateLimiter, limit: int) -> RateState:
    """One request, on an event loop of its own (the store's client closed with it)."""
    async def request() -> RateState:
        try:
            return await limiter.hit_shared(ACCOUNT, limit)
        finally:
            await STORES[id(limiter)].aclose()

    return run_coroutine(request())


def in_redis(prefix: str) -> int | None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        value = client.get(f"{prefix}rate:{ACCOUNT}:{int(NOW // 60)}")
    finally:
        client.close()
    return None if value is None else int(value)


def test_far_from_the_limit_requests_reach_redis_at_the_sync(prefix: str) -> None:
    first, second = node(REDIS_URL, prefix), node(REDIS_URL, prefix)
    assert [hit(first, 1000).remaining for _ in range(3)] == [999, 998, 997]
    assert in_redis(prefix) is None  # no round trip on the requests
    first.sync()
    assert in_redis(prefix) == 3
    assert hit(second, 1000).remaining == 999  # it has not synced yet
    second.sync()  # adds its one and learns the total
    state = hit(second, 1000)
    assert (state.remaining, state.reset) == (1000 - 5, 50)
    for limiter in (first, second):
        limiter.close()


def test_near_the_limit_every_request_is_counted_in_redis(prefix: str) -> None:
    first, second = node(REDIS_URL, prefix), node(REDIS_URL, prefix)
    limit = 4  # within ten of the limit from the first request
    assert [hit(first, limit).remaining, hit(second, limit).remaining,
            hit(first, limit).remaining, hit(second, limit).remaining] == [3, 2, 1, 0]
    assert in_redis(prefix) == 4
    for limiter in (first, second):
        with pytest.raises(RateLimited) as refused:
            hit(limiter, limit)
        assert refused.value.retry_after == 50
        limiter.close()


def test_with_redis_down_a_node_counts_alone_and_catches_up_later(prefix: str) -> None:
    down = node(f"redis://127.0.0.1:{free_port()}/0", prefix)
    assert [hit(down, 4).remaining for _ in range(4)] == [3, 2, 1, 0]
    with pytest.raises(RateLimited):
        hit(down, 4)
    down.sync()  # fails quietly; the counts stay for the next one
    down.close()
