"""Counts failed authentications per source and refuses a source that fails too often.

With Redis (:class:`~tokenry.auth.shared.SharedStore`) every failure is also counted there,
and the count Redis returns becomes this node's count when it is higher: a source that failed
on other nodes is throttled here from its first failure here on. Checking stays local (no
round trip on the way in), so a source can make at most ``limit + nodes - 1`` failed guesses
per window across the installation. While Redis is down, each node counts on its own.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable

from tokenry.auth.shared import SharedStore
from tokenry.domain.errors import Throttled


class FailureThrottle:
    """Fixed-window counter per source (client IP). Bounded memory: old windows are pruned."""

    def __init__(self, limit: int, window: int, max_sources: int = 100_000,
                 clock: Callable[[], float] = time.monotonic,
                 shared: SharedStore | None = None) -> None:
        self._limit = limit
        self._shared = shared
        self._window = window
        self._max_sources = max_sources
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[float, int]] = {}

    def check(self, source: str) -> None:
        entry = self._failures.get(source)
        if entry is None:
            return
        started, count = entry
        remaining = started + self._window - self._clock()
        if remaining <= 0:
            return
        if count >= self._limit:
            raise Throttled(retry_after=max(1, math.ceil(remaining)))

    def record_failure(self, source: str) -> None:
        self._count_here(source)
        seen = self._shared.failure(source, self._window) if self._shared else None
        if seen is not None:
            self._learn(source, *seen)

    async def record_failure_async(self, source: str) -> None:
        """:meth:`record_failure` on the event loop, awaiting Redis instead of blocking."""
        self._count_here(source)
        seen = await self._shared.failure_async(source, self._window) if self._shared else None
        if seen is not None:
            self._learn(source, *seen)

    def _count_here(self, source: str) -> None:
        now = self._clock()
        with self._lock:
            started, count = self._failures.get(source, (now, 0))
            if started + self._window <= now:
                started, count = now, 0
            if source not in self._failures and len(self._failures) >= self._max_sources:
                self._prune(now)
            self._failures[source] = (started, count + 1)

    def _learn(self, source: str, count: int, seconds_left: float) -> None:
        """Adopt the installation's count for ``source`` when it is ahead of this node's."""
        now = self._clock()
        with self._lock:
            started, known = self._failures.get(source, (now, 0))
            if count > known or started + self._window <= now:
                self._failures[source] = (now + seconds_left - self._window, count)

    def _prune(self, now: float) -> None:
        """Drop ended windows; if the table is still full, the oldest windows of sources
        that are not throttled make room, and only then the oldest throttled ones.

        Emptying the table instead (or evicting plainly by age) would let a flood of
        failures from many new sources unthrottle the attacker whose window began first.
        """
        expired = [s for s, (t, _) in self._failures.items() if t + self._window <= now]
        for source in expired:
            del self._failures[source]
        excess = len(self._failures) - self._max_sources + 1
        if excess > 0:
            oldest = heapq.nsmallest(excess, self._failures.items(),
                                     key=lambda item: (item[1][1] >= self._limit, item[1][0]))
            for source, _ in oldest:
                del self._failures[source]
