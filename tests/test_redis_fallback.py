"""Redis down or slow is never a 500 and never an open door: each node falls back to its own
throttle, rate limit and usage writes, says so once, counts the errors, and shares again when
Redis is back. Usage queued in Redis lands in the database once, even when a drain fails."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tests.conftest import ADMIN_EMAIL, basic
from tests.live import free_port
from tests.many_nodes import REDIS_URL, forget, unique_prefix, wait_for_minute_room
from tokenry.auth import shared as shared_module
from tokenry.auth import usage
from tokenry.auth.usage import UsageRecorder
from tokenry.core import Core
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.storage.models import UsageCounter

ME = "/api/v2/users/me.json"


class PrivateRedis:
    """A redis-server of the test's own on a free port, to stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--enable-debug-command", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def redis_value(core: Core, name: str) -> float:
    value = core.metrics.registry.get_sample_value(name)
    assert value is not None
    return value


def error_count(core: Core) -> float:
    return sum(core.metrics.registry.get_sample_value(
        "tokenry_redis_errors_total", {"operation": op}) or 0
        for op in ("throttle", "rate_limit", "usage"))


def usage_total(core: Core) -> int:
    with core.db.read() as session:
        return int(session.scalar(select(func.sum(UsageCounter.count))) or 0)


def until(condition: Callable[[], bool], client: TestClient, auth: dict[str, str]) -> None:
    """Serve requests (never a 500) until ``condition`` holds, within a deadline."""
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        assert client.get(ME, headers=auth).status_code == 200


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # nothing listens on this port: Redis is down from the start
    return {"redis_url": f"redis://127.0.0.1:{free_port()}/0", "redis_timeout": 0.2,
            "auth_failure_limit": 2}


def test_with_redis_unreachable_the_node_limits_and_records_on_its_own_and_warns_once(
        client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str],
        caplog: pytest.LogCaptureFixture) -> None:
    update_account_settings(core, admin_actor, {"rate_limit_per_minute": 3})
    with caplog.at_level(logging.WARNING, logger="tokenry.redis"):
        statuses = [client.get(ME, headers=admin_auth).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]  # the limit still holds, counted here
        wrong = basic(ADMIN_EMAIL, "wrong")
        assert [client.get(ME, headers=wrong).status_code for _ in range(3)] == [401, 401, 429]
        assert client.get(ME, headers=admin_auth).status_code == 429  # throttled here
        core.usage.flush(core.db)
    assert usage_total(core) == 3  # written by this node itself
    warnings = [r.getMessage() for r in caplog.records if r.name == "tokenry.redis"]
    assert len(warnings) == 1 and "Redis unreachable" in warnings[0]
    assert redis_value(core, "tokenry_redis_up") == 0 and error_count(core) >= 1


@pytest.fixture
def redis_settings(private_redis: PrivateRedis) -> dict[str, Any]:
    return {"redis_url": private_redis.url, "redis_timeout": 0.2}


@pytest.fixture
def shared_core(core: Core, private_redis: PrivateRedis) -> Core:
    assert core.shared is not None
    return core


@pytest.mark.usefixtures("shared_core")
class TestAPrivateRedisThatStops:
    @pytest.fixture
    def settings_overrides(self, redis_settings: dict[str, Any]) -> dict[str, Any]:
        return redis_settings

    def test_the_node_falls_back_while_it_is_down_and_shares_again_when_it_is_back(
            self, client: TestClient, core: Core, private_redis: PrivateRedis,
            admin_actor: Actor, admin_auth: dict[str, str], caplog: pytest.LogCaptureFixture,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(shared_module, "RETRY", 0.2)
        wait_for_minute_room(15)
        key = (f"{core.settings.resolved_redis_prefix()}rate:{admin_actor.account_id}:"
               f"{int(time.time() // 60)}")
        assert client.get(ME, headers=admin_auth).status_code == 200
        with caplog.at_level(logging.WARNING, logger="tokenry.redis"):
            private_redis.stop()
            until(lambda: redis_value(core, "tokenry_redis_up") == 0, client, admin_auth)
            private_redis.start()  # empty again: the shared window starts afresh
            until(lambda: redis_value(core, "tokenry_redis_up") == 1, client, admin_auth)
            # the requests answered meanwhile reach the new Redis at the next sync
            probe = redis.Redis.from_url(private_redis.url)
            until(lambda: int(probe.get(key) or 0) >= 1, client, admin_auth)
            probe.close()
        messages = [r.getMessage() for r in caplog.records if r.name == "tokenry.redis"]
        assert len([m for m in messages if "unreachable" in m]) == 1
        assert len([m for m in messages if "reachable again" in m]) == 1

    def test_a_slow_redis_is_no_slow_request(self, client: TestClient, core: Core,
                                             private_redis: PrivateRedis, admin_actor: Actor,
                                             admin_auth: dict[str, str]) -> None:
        # a small limit: every request is counted in Redis, on the request's own time
        update_account_settings(core, admin_actor, {"rate_limit_per_minute": 10})
        assert client.get(ME, headers=admin_auth).status_code == 200
        blocker = subprocess.Popen(["redis-cli", "-p", str(private_redis.port), "DEBUG",
                                    "SLEEP", "3"], stdout=subprocess.DEVNULL)
        try:
            client_of_test = redis.Redis.from_url(private_redis.url, socket_timeout=0.05)
            deadline = time.monotonic() + 5
            while True:  # wait until the server is really asleep
                try:
                    client_of_test.ping()
                except redis.TimeoutError:
                    break
                assert time.monotonic() < deadline
            started = time.monotonic()
            answers = [client.get(ME, headers=admin_auth).status_code for _ in range(5)]
            took = time.monotonic() - started
        finally:
            blocker.wait(timeout=15)
        assert answers == [200] * 5
        # one call waited for the 0.2 s timeout; the rest skipped Redis while it was down
        assert took < 2.5 and redis_value(core, "tokenry_redis_up") == 0


@pytest.fixture
def prefix() -> Iterator[str]:
    name = unique_prefix()
    yield name
    forget(REDIS_URL, name)


def test_usage_queued_in_redis_lands_once_even_when_a_drain_fails(
        core: Core, admin_actor: Actor, prefix: str) -> None:
    stores = [shared_module.SharedStore(REDIS_URL, prefix, 1.0, core.metrics) for _ in "ab"]
    first, second = (UsageRecorder(shared=store) for store in stores)
    token_id = create_token(core, admin_actor, description="t").token.id
    for recorder, uses in ((first, 3), (second, 2)):
        for _ in range(uses):
            recorder.record(admin_actor.account_id, token_id, admin_actor.user_id, "10.0.0.1",
                            "ua", "GET /x", core.clock())
    with core.db.engine.begin() as connection:  # the database refuses the write for real
        connection.execute(text("ALTER TABLE usage_counters RENAME TO usage_counters_away"))
    with pytest.raises(Exception, match="usage_counters"):
        first.flush(core.db)  # queued in Redis, then the drain fails: kept for next time
    client = redis.Redis.from_url(REDIS_URL)
    assert client.llen(f"{prefix}usage:draining") == 1
    with core.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counters_away RENAME TO usage_counters"))
    second.flush(core.db)  # drains the interrupted batch first, then the rest next time
    second.flush(core.db)
    first.flush(core.db)
    assert usage_total(core) == 5
    assert client.exists(f"{prefix}usage:pending", f"{prefix}usage:draining",
                         f"{prefix}usage:lock") == 0
    client.close()
    for store in stores:
        store.close()



def test_a_drain_written_but_not_forgotten_is_not_counted_twice(
        core: Core, admin_actor: Actor, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database committed the drain's counts, then Redis failed before the batches were
    deleted: the next drain, on another node, finds the same batches and writes nothing."""
    stores = [shared_module.SharedStore(REDIS_URL, prefix, 1.0, core.metrics) for _ in "ab"]
    first, second = (UsageRecorder(shared=store) for store in stores)
    token_id = create_token(core, admin_actor, description="t").token.id
    for _ in range(3):
        first.record(admin_actor.account_id, token_id, admin_actor.user_id, "10.0.0.1", "ua",
                     "GET /x", core.clock())
    client = redis.Redis.from_url(REDIS_URL)
    forget_fails = stores[0]._sync.delete

    def fails(*keys: str) -> int:
        if f"{prefix}usage:draining" in keys:
            raise redis.ConnectionError("Redis went away after the database committed")
        return forget_fails(*keys)

    monkeypatch.setattr(stores[0]._sync, "delete", fails)
    first.flush(core.db)
    assert usage_total(core) == 3 and client.llen(f"{prefix}usage:draining") == 1
    assert second.flush(core.db) == 0  # the same batches again, under the same drain id
    assert usage_total(core) == 3
    assert client.exists(f"{prefix}usage:pending", f"{prefix}usage:draining",
                         f"{prefix}usage:drain_id", f"{prefix}usage:lock") == 0
    # and the next drain, a new one, is written as usual
    second.record(admin_actor.account_id, token_id, admin_actor.user_id, "10.0.0.1", "ua",
                  "GET /x", core.clock())
    second.flush(core.db)
    assert usage_total(core) == 4
    client.close()
    for store in stores:
        store.close()

def test_while_no_node_can_write_the_queue_in_redis_stays_bounded(
        core: Core, admin_actor: Actor, prefix: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(usage, "REDIS_BATCHES", 2)
    store = shared_module.SharedStore(REDIS_URL, prefix, 1.0, core.metrics)
    recorder = UsageRecorder(shared=store)
    token_id = create_token(core, admin_actor, description="t").token.id
    with core.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counters RENAME TO usage_counters_away"))
    with caplog.at_level(logging.WARNING, logger="tokenry.usage"):
        for n in range(4):  # the first flush is left draining; the queue keeps the last two
            recorder.record(admin_actor.account_id, token_id, admin_actor.user_id, "10.0.0.1",
                            "ua", f"GET /{n}", core.clock())
            with pytest.raises(Exception, match="usage_counters"):
                recorder.flush(core.db)
    warnings = [r.getMessage() for r in caplog.records if r.name == "tokenry.usage"]
    assert warnings == ["usage queue in Redis full: dropped the 1 oldest flush(es); their "
                        "last-used times and counts are lost"]
    with core.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counters_away RENAME TO usage_counters"))
    recorder.flush(core.db)  # the interrupted drain
    recorder.flush(core.db)  # the queue
    with core.db.read() as session:
        endpoints = sorted(c.endpoint for c in session.scalars(select(UsageCounter)))
    assert endpoints == ["GET /0", "GET /2", "GET /3"]
    store.close()
