"""Counts failed authentications per source and refuses a source that fails too often."""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable

from tokenry.domain.errors import Throttled


class FailureThrottle:
    """Fixed-window counter per source (client IP). Bounded memory: old windows are pruned."""

    def __init__(self, limit: int, window: int, max_sources: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
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
        now = self._clock()
        with self._lock:
            started, count = self._failures.get(source, (now, 0))
            if started + self._window <= now:
                started, count = now, 0
            if source not in self._failures and len(self._failures) >= self._max_sources:
                self._prune(now)
            self._failures[source] = (started, count + 1)

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
