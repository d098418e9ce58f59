"""The per-account API rate limit: a fixed one-minute window per account.

Every authenticated API request counts. The state of the window goes out on the response in
Zendesk's headers (``X-Rate-Limit``, ``X-Rate-Limit-Remaining`` and the ``ratelimit-*``
ones); past the limit the request is refused with ``429`` and ``Retry-After``.

Without Redis the window is counted on this node (one small entry per account).

With Redis the window is the epoch minute, the same on every node, and its count lives in
Redis. A request far from its account's limit is counted in memory only, and a thread adds
this node's counts to Redis and reads back the installation's totals every
``redis_sync_interval`` (one pipeline for all accounts): no round trip on the request.
Once the count comes within ``NEAR`` requests (or a tenth) of the limit, every request is
counted in Redis itself (one ``INCRBY``, awaited), so the last requests are exact. Other
nodes' requests are seen at most one sync late, so the limit can be overshot only by a
burst of more than that margin within one sync interval. While Redis is down each node
goes on from the last total it saw plus its own requests: never looser than alone.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tokenry.auth.shared import SharedStore
from tokenry.domain.errors import RateLimited

WINDOW = 60.0
NEAR = 10  # requests short of the limit from which each request is counted in Redis
RATE_STATE = "tokenry_rate_limit"  # where a request's RateState waits for its response


@dataclass(frozen=True, slots=True)
class RateState:
    limit: int
    remaining: int
    reset: int  # seconds until the window starts again

    def headers(self) -> list[tuple[bytes, bytes]]:
        limit, remaining = str(self.limit).encode(), str(self.remaining).encode()
        return [(b"x-rate-limit", limit), (b"x-rate-limit-remaining", remaining),
                (b"ratelimit-limit", limit), (b"ratelimit-remaining", remaining),
                (b"ratelimit-reset", str(self.reset).encode())]


@dataclass(slots=True)
class _Tally:
    """One account's shared window as this node sees it."""

    minute: int
    known: int = 0  # the installation's count at the last answer from Redis (ours included)
    unsynced: int = 0  # this node's requests not yet added in Redis


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 shared: SharedStore | None = None, sync_interval: float = 0.1,
                 wall: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._shared = shared
        self._wall = wall
        self._sync_interval = sync_interval
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[float, int]] = {}
        self._tallies: dict[int, _Tally] = {}
        self._syncer: threading.Thread | None = None
        self._stop = threading.Event()

    def hit(self, account_id: int, limit: int) -> RateState:
        """Count one request; :class:`RateLimited` once the account is past its limit."""
        now = self._clock()
        with self._lock:
            started, count = self._windows.get(account_id, (now, 0))
            if now - started >= WINDOW:
                started, count = now, 0
            count += 1
            self._windows[account_id] = (started, count)
        reset = max(1, math.ceil(started + WINDOW - now))
        if count > limit:
            raise RateLimited(retry_after=reset)
        return RateState(limit=limit, remaining=limit - count, reset=reset)

    async def hit_shared(self, account_id: int, limit: int) -> RateState:
        """:meth:`hit`, counted across the installation when Redis is configured."""
        shared = self._shared
        if shared is None:
            return self.hit(account_id, limit)
        if self._syncer is None:
            self._start_syncer()
        now = self._wall()
        minute = int(now // WINDOW)
        with self._lock:
            tally = self._tallies.get(account_id)
            if tally is None or tally.minute != minute:
                tally = self._tallies[account_id] = _Tally(minute)
            tally.unsynced += 1
            count = tally.known + tally.unsynced
            near = count > limit - max(NEAR, limit // 10)
            taken = tally.unsynced if near else 0
            tally.unsynced -= taken
        if near:
            total = await shared.add_requests(account_id, minute, taken)
            with self._lock:
                if total is None:  # Redis down: counted here, added at a later sync
                    tally.unsynced += taken
                else:
                    tally.known = max(tally.known, total)
                    count = total
        reset = max(1, math.ceil((minute + 1) * WINDOW - now))
        if count > limit:
            raise RateLimited(retry_after=reset)
        return RateState(limit=limit, remaining=limit - count, reset=reset)

    def sync(self) -> None:
        """Add this node's unsynced counts to Redis and learn every active account's total."""
        shared = self._shared
        assert shared is not None
        minute = int(self._wall() // WINDOW)
        with self._lock:
            for account_id in [a for a, t in self._tallies.items() if t.minute != minute]:
                del self._tallies[account_id]  # a past window: no longer anyone's concern
            taken = {a: t.unsynced for a, t in self._tallies.items()}
            for tally in self._tallies.values():
                tally.unsynced = 0
        if not taken:
            return
        totals = shared.sync_requests(minute, taken)
        with self._lock:
            for account_id, count in taken.items():
                current = self._tallies.get(account_id)
                if current is None or current.minute != minute:
                    continue
                if totals is None:
                    current.unsynced += count  # kept for the next sync
                else:
                    current.known = max(current.known, totals[account_id])

    def _start_syncer(self) -> None:
        with self._lock:
            if self._syncer is not None:
                return
            self._syncer = threading.Thread(target=self._sync_forever, daemon=True,
                                            name="tokenry-rate-sync")
        self._syncer.start()

    def _sync_forever(self) -> None:
        while not self._stop.wait(self._sync_interval):
            with contextlib.suppress(Exception):  # SharedStore logs and counts its errors
                self.sync()

    def close(self) -> None:
        self._stop.set()
        if self._syncer is not None:
            self._syncer.join(timeout=5)
