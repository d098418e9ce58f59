"""A small TTL cache. Local writes clear it at once; the TTL bounds staleness across nodes."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

MISSING = object()


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry[0] < self._clock():
            return MISSING
        return entry[1]

    def put(self, key: Hashable, value: Any, *, within: float | None = None) -> None:
        """Keep ``value`` for the TTL, or for ``within`` seconds when that is sooner (a value
        that stops being true at a known moment, such as an expiring credential's identity,
        then needs no check of its own on every hit)."""
        lifetime = self._ttl if within is None else min(self._ttl, within)
        if lifetime <= 0:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()  # crude but bounded; a full reload costs one query per key
        self._entries[key] = (self._clock() + lifetime, value)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
