"""Two real ``tokenry serve`` processes on one database (issue 10): with ``TOKENRY_REDIS_URL``
they share the failure throttle, the rate limit and usage; without it each counts alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from tests.conftest import ADMIN_EMAIL, basic
from tests.many_nodes import (
    REDIS_URL,
    Node,
    forget,
    node_env,
    two_nodes,
    unique_prefix,
    wait_for_minute_room,
)
from tokenry.core import Core
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.storage.models import UsageCounter

ME = "/api/v2/users/me.json"


@pytest.fixture(params=["redis", "alone"])
def shared(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The nodes' extra settings: a Redis of their own prefix, or none."""
    if request.param == "alone":
        yield {}
        return
    prefix = unique_prefix()
    yield {"TOKENRY_REDIS_URL": REDIS_URL, "TOKENRY_REDIS_PREFIX": prefix}
    forget(REDIS_URL, prefix)


@pytest.fixture
def rate_limit() -> int:
    return 4  # near the limit from the first request: every request is counted in Redis


@pytest.fixture
def nodes(core: Core, admin_actor: Actor, shared: dict[str, str], rate_limit: int,
          tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    update_account_settings(core, admin_actor, {"rate_limit_per_minute": rate_limit})
    env = node_env(core.settings, tmp_path, TOKENRY_AUTH_FAILURE_LIMIT="3",
                   TOKENRY_USAGE_FLUSH_INTERVAL="3600", **shared)
    with two_nodes(env) as pair:
        yield pair


def test_failures_on_one_node_throttle_the_source_on_the_other_only_with_redis(
        nodes: tuple[Node, Node], shared: dict[str, str], admin_secret: str) -> None:
    first, second = nodes
    wrong, right = basic(ADMIN_EMAIL, "wrong"), basic(ADMIN_EMAIL, admin_secret)
    assert [first.get(ME, headers=wrong).status_code for _ in range(3)] == [401] * 3
    assert first.get(ME, headers=right).status_code == 429  # throttled where it failed
    # one more failure on the second node: with Redis it learns the source's count
    assert second.get(ME, headers=wrong).status_code == 401
    answer = second.get(ME, headers=right)
    if shared:
        assert answer.status_code == 429 and 1 <= int(answer.headers["Retry-After"]) <= 60
    else:
        assert answer.status_code == 200


def test_near_the_limit_the_rate_limit_counts_both_nodes_requests_only_with_redis(
        nodes: tuple[Node, Node], shared: dict[str, str], admin_auth: dict[str, str]) -> None:
    first, second = nodes
    wait_for_minute_room()
    assert [first.get(ME, headers=admin_auth).status_code for _ in range(2)] == [200, 200]
    on_second = second.get(ME, headers=admin_auth)
    assert on_second.status_code == 200
    assert on_second.headers["X-Rate-Limit-Remaining"] == ("1" if shared else "3")
    assert second.get(ME, headers=admin_auth).status_code == 200
    fifth = first.get(ME, headers=admin_auth)
    if shared:
        assert fifth.status_code == 429 and fifth.headers["X-Rate-Limit-Remaining"] == "0"
    else:
        assert fifth.status_code == 200 and fifth.headers["X-Rate-Limit-Remaining"] == "1"


@pytest.mark.parametrize("rate_limit", [1000])
def test_far_from_the_limit_each_node_learns_the_others_count_within_a_sync(
        nodes: tuple[Node, Node], shared: dict[str, str], admin_auth: dict[str, str]) -> None:
    first, second = nodes
    wait_for_minute_room(10)
    assert [first.get(ME, headers=admin_auth).status_code for _ in range(3)] == [200] * 3
    assert [second.get(ME, headers=admin_auth).status_code for _ in range(2)] == [200] * 2
    made, deadline = 5, time.monotonic() + 10
    while True:  # the first node counts in memory and hears of the second's at a sync
        remaining = int(first.get(ME, headers=admin_auth).headers["X-Rate-Limit-Remaining"])
        made += 1
        if not shared:  # its own requests only, at once and for good
            assert remaining == 1000 - (made - 2)
            break
        if remaining == 1000 - made:
            break
        assert remaining > 1000 - made and time.monotonic() < deadline


def test_usage_from_both_nodes_lands_once(core: Core, nodes: tuple[Node, Node],
                                          shared: dict[str, str],
                                          admin_auth: dict[str, str]) -> None:
    first, second = nodes
    wait_for_minute_room()
    assert [first.get(ME, headers=admin_auth).status_code for _ in range(3)] == [200] * 3
    assert [second.get(ME, headers=admin_auth).status_code for _ in range(1)] == [200]
    for node in (first, second):  # each flushes at shutdown (the interval is an hour)
        assert "Redis unreachable" not in node.stop()
    with core.db.read() as session:
        total = session.scalar(select(func.sum(UsageCounter.count)))
    assert total == 4
    if shared:  # nothing left queued: one node drained both nodes' flushes
        client = redis.Redis.from_url(REDIS_URL)
        prefix = shared["TOKENRY_REDIS_PREFIX"]
        assert client.exists(f"{prefix}usage:pending", f"{prefix}usage:draining") == 0
        client.close()
