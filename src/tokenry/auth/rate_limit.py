"""The per-account API rate limit: a fixed one-minute window per account, on this node.

Every authenticated API request counts. The state of the window goes out on the response in
Zendesk's headers (``X-Rate-Limit``, ``X-Rate-Limit-Remaining`` and the ``ratelimit-*``
ones); past the limit the request is refused with ``429`` and ``Retry-After``. Memory is one
small entry per account. Shared across nodes only later (through Redis); see the README.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tokenry.domain.errors import RateLimited

WINDOW = 60.0
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


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[float, int]] = {}

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
