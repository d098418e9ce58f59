"""What the nodes of one installation share through Redis (``TOKENRY_REDIS_URL``).

Three things, each designed to keep Redis off the cache-hit path where it can:

* **failure counts** (the throttle): one ``INCR`` + ``EXPIRE NX`` + ``PTTL`` per *failed*
  authentication; the count it returns tells this node whether the source is throttled;
* **request counts** (the rate limit): a key per account and epoch-aligned minute, which each
  node adds its requests to every ``redis_sync_interval`` (one pipeline for all accounts), and
  on every request once an account is near its limit (see :mod:`tokenry.auth.rate_limit`);
* **usage**: each node pushes its aggregated uses as one list entry per flush; one node at a
  time (a lock key) renames the list to a draining key and writes it to the database.

Every key starts with the installation's prefix, so installations and tests that share one
Redis never mix. When Redis is down or slow (``redis_timeout``), a call answers ``None`` and
the caller falls back to what this node knows: never a 500, never an open door. The first
error logs one warning and sets ``tokenry_redis_up`` to 0; every error counts in
``tokenry_redis_errors``. While down, one call every ``RETRY`` seconds tries again, and the
first success logs that Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal, cast

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from tokenry.observe.metrics import Metrics

log = logging.getLogger("tokenry.redis")

RETRY = 5.0  # seconds between attempts while Redis is down
WINDOW = 60  # the rate limit's window, aligned to the epoch minute on every node
USAGE_LOCK_MS = 300_000  # a drain that takes longer than this may be repeated
Operation = Literal["throttle", "rate_limit", "usage"]

# Take the queue for a drain and name the drain, at once; 0 when nothing is queued.
_TAKE = "if redis.call('exists', KEYS[1]) == 0 then return 0 end " \
        "redis.call('rename', KEYS[1], KEYS[2]) redis.call('set', KEYS[3], ARGV[1]) return 1"
# Delete the lock only if it is still ours (it may have expired and been taken since).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) " \
           "else return 0 end"


class SharedStore:
    def __init__(self, url: str, prefix: str, timeout: float, metrics: Metrics,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.prefix = prefix
        self._url = url
        self._timeout = timeout
        self._metrics = metrics
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._down = False
        self._next_try = 0.0
        self._sync = redis.Redis.from_url(url, socket_timeout=timeout,
                                          socket_connect_timeout=timeout,
                                          retry=Retry(NoBackoff(), 0))
        # an asyncio client belongs to one event loop; a new loop (a test's) gets a new one
        self._async: redis.asyncio.Redis | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        metrics.redis_up.set(1)

    # -- health ------------------------------------------------------------------------------

    def _usable(self) -> bool:
        """Up, or down long enough that this caller may try again (only one caller per RETRY)."""
        if not self._down:
            return True
        with self._lock:
            now = self._clock()
            if now < self._next_try:
                return False
            self._next_try = now + RETRY
            return True

    def _failed(self, operation: Operation, error: Exception) -> None:
        self._metrics.redis_errors[operation].inc()
        with self._lock:
            self._next_try = self._clock() + RETRY
            if self._down:
                return
            self._down = True
        self._metrics.redis_up.set(0)
        log.warning("Redis unreachable (%s during %s): this node falls back to its own failure "
                    "throttle, rate limit and usage writes until it is back",
                    type(error).__name__, operation)

    def _succeeded(self) -> None:
        if not self._down:
            return
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            self._metrics.redis_up.set(1)
            log.warning("Redis reachable again: throttle, rate limit and usage shared again")

    def _async_client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        if self._async is None or self._async_loop is not loop:
            self._async = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=AsyncRetry(NoBackoff(), 0))
            self._async_loop = loop
        return self._async

    # -- the three shared things -------------------------------------------------------------

    def failure(self, source: str, window: int) -> tuple[int, float] | None:
        """Count one failure of ``source``: its failures in the window and the seconds left."""
        if not self._usable():
            return None
        key = f"{self.prefix}fail:{source}"
        try:
            pipe = self._sync.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            pipe.pttl(key)
            count, _, ttl_ms = pipe.execute()
        except redis.RedisError as error:
            self._failed("throttle", error)
            return None
        self._succeeded()
        return int(count), max(int(ttl_ms), 0) / 1000

    async def failure_async(self, source: str, window: int) -> tuple[int, float] | None:
        """:meth:`failure` for the event loop: a slow Redis never blocks other requests."""
        if not self._usable():
            return None
        key = f"{self.prefix}fail:{source}"
        try:
            pipe = self._async_client().pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            pipe.pttl(key)
            count, _, ttl_ms = await pipe.execute()
        except (redis.RedisError, OSError) as error:
            self._failed("throttle", error)
            return None
        self._succeeded()
        return int(count), max(int(ttl_ms), 0) / 1000

    async def add_requests(self, account_id: int, minute: int, count: int) -> int | None:
        """Add ``count`` requests to the account's window: the installation's total."""
        if not self._usable():
            return None
        key = self._window_key(account_id, minute)
        try:
            client = self._async_client()
            total = int(await client.incrby(key, count))
            if total == count:  # the key is new: it outlives its minute a little
                await client.expire(key, 2 * WINDOW)
        except (redis.RedisError, OSError) as error:
            self._failed("rate_limit", error)
            return None
        self._succeeded()
        return total

    def sync_requests(self, minute: int, counts: dict[int, int]) -> dict[int, int] | None:
        """Add each account's unsynced requests (0 to only read) in one pipeline: totals."""
        if not self._usable():
            return None
        try:
            pipe = self._sync.pipeline(transaction=False)
            for account_id, count in counts.items():
                key = self._window_key(account_id, minute)
                pipe.incrby(key, count)
                pipe.expire(key, 2 * WINDOW)
            replies = pipe.execute()
        except redis.RedisError as error:
            self._failed("rate_limit", error)
            return None
        self._succeeded()
        return {account_id: int(total)
                for account_id, total in zip(counts, replies[::2], strict=True)}

    def _window_key(self, account_id: int, minute: int) -> str:
        return f"{self.prefix}rate:{account_id}:{minute}"

    def push_usage(self, batch: bytes, max_batches: int) -> int | None:
        """Queue one node's flush; returns how many queued batches the bound dropped."""
        if not self._usable():
            return None
        key = f"{self.prefix}usage:pending"
        try:
            pipe = self._sync.pipeline(transaction=True)
            pipe.rpush(key, batch)
            pipe.ltrim(key, -max_batches, -1)
            length, _ = pipe.execute()
        except redis.RedisError as error:
            self._failed("usage", error)
            return None
        self._succeeded()
        return max(int(length) - max_batches, 0)

    def drain_usage(self, write: Callable[[list[bytes], str], Any]) -> int | None:
        """If no other node is draining: hand every queued batch to ``write`` (one database
        transaction) with the drain's id, then forget them. ``None`` when another node holds
        the lock or Redis is down. A batch is forgotten only after ``write`` returned; a drain
        interrupted before that leaves its batches in the draining key, which the next drain
        takes first, under the same id: ``write`` records the id with what it writes, so a
        drain whose batches reached the database but were not forgotten is not counted
        twice."""
        if not self._usable():
            return None
        pending, draining = f"{self.prefix}usage:pending", f"{self.prefix}usage:draining"
        named = f"{self.prefix}usage:drain_id"
        lock, me = f"{self.prefix}usage:lock", uuid.uuid4().hex
        try:
            if not self._sync.set(lock, me, nx=True, px=USAGE_LOCK_MS):
                return None
            try:
                if not self._sync.exists(draining) and \
                        not self._sync.eval(_TAKE, 3, pending, draining, named, me):
                    return 0  # nothing queued
                drain = self._sync.get(named)
                if drain is None:  # left by a version that did not name its drains
                    self._sync.set(named, me)
                    drain = me.encode()
                batches = cast(list[bytes], self._sync.lrange(draining, 0, -1))
                write(batches, cast(bytes, drain).decode())
                self._sync.delete(draining, named)
            finally:
                self._sync.eval(_RELEASE, 1, lock, me)
        except redis.RedisError as error:
            self._failed("usage", error)
            return None
        self._succeeded()
        return len(batches)

    async def aclose(self) -> None:
        """Close the event loop's client (at the app's shutdown, on its loop)."""
        client, self._async = self._async, None
        if client is not None and self._async_loop is asyncio.get_running_loop():
            await client.aclose()

    def close(self) -> None:
        self._sync.close()
