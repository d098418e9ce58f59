"""The verification cache: bounded, expiring, one load per key at a time.

* **Bounded.** At ``max_entries`` the oldest entry goes (first in, first out; an entry that is
  refreshed or loaded again counts as new). Never a wholesale clear when full. A hit is one
  look-up in a plain dict: the insertion order lives in a second structure that only the miss
  path touches (keeping it in the dict itself, or moving a key on every hit as an LRU does,
  costs the hit path 35-80 ns, measured).
* **Expiring.** An entry lives for the TTL (less a random share of up to ``jitter``, so entries
  loaded together do not all end together), or for ``within`` seconds when that is sooner.
* **Refreshed ahead.** In the last ``refresh_ahead`` share of its life, :meth:`lookup` answers
  one caller :data:`DUE`; that caller loads the entry again while every other caller is still
  served the old one. A hot key therefore never expires under load.
* **Single flight.** :meth:`load` runs one loader per key at a time; callers arriving while it
  runs wait for its answer, or its exception, which reaches every waiter and leaves nothing
  cached behind it.
* **Generations.** :meth:`clear` (an identity change) starts a new generation: a load that
  began before it neither stores its answer nor serves it to callers that arrive after.

``ttl`` can change while the cache runs (:meth:`set_ttl`): long while an invalidation watcher
is connected, short while it is not.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

MISSING = object()
DUE = object()  # lookup(): the entry is near its end and this caller should load it again
V = TypeVar("V")


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.monotonic, *, jitter: float = 0.1,
                 refresh_ahead: float = 0.2) -> None:
        if max_entries < 1 or not 0 <= jitter < 1 or not 0 <= refresh_ahead < 1:
            raise ValueError("max_entries >= 1, 0 <= jitter < 1, 0 <= refresh_ahead < 1")
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._jitter = jitter
        self._ahead = refresh_ahead
        # key -> (refresh_at, expires_at, value)
        self._entries: dict[Hashable, tuple[float, float, Any]] = {}
        self._order: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[Hashable, Future[Any]] = {}
        self._refreshing: set[Hashable] = set()
        self._generation = 0
        self.evictions = 0

    def get(self, key: Hashable) -> Any:
        """The value, or :data:`MISSING` once it has expired; never :data:`DUE`."""
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self._clock():
            return MISSING
        return entry[2]

    def lookup(self, key: Hashable) -> Any:
        """The value, :data:`MISSING`, or :data:`DUE` for the one caller elected to load it
        again (until that load ends, everyone else still gets the value)."""
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        if entry[0] > self._clock():
            return entry[2]
        return self._late(key, entry)

    def _late(self, key: Hashable, entry: tuple[float, float, Any]) -> Any:
        if entry[1] <= self._clock():
            return MISSING
        with self._lock:
            if key in self._refreshing or key in self._flights:
                return entry[2]
            self._refreshing.add(key)
        return DUE

    @property
    def generation(self) -> int:
        """Moves on every :meth:`clear`: a value read before it moved may be stale."""
        return self._generation

    def put(self, key: Hashable, value: Any, *, within: float | None = None,
            generation: int | None = None) -> None:
        """Keep ``value`` for the TTL, or for ``within`` seconds when that is sooner (a value
        that stops being true at a known moment, such as an expiring credential's identity,
        then needs no check of its own on every hit). With ``generation`` (read before the
        value was), nothing is kept if the cache was cleared since."""
        with self._lock:
            if generation is None or generation == self._generation:
                self._store(key, value, within)

    def load(self, key: Hashable, loader: Callable[[], V], *,
             within: Callable[[V], float | None] | None = None) -> V:
        """``loader()``, run once for all concurrent callers of the same key, and kept.

        ``within`` gives the kept value's own end (see :meth:`put`) from the value."""
        with self._lock:
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
                generation = self._generation
        if not leading:
            result: V = flight.result()
            return result
        try:
            value = loader()
        except BaseException as error:
            with self._lock:
                self._land(key, flight)
            flight.set_exception(error)
            raise
        lifetime = within(value) if within is not None else None
        with self._lock:
            self._land(key, flight)
            if generation == self._generation:
                self._store(key, value, lifetime)
        flight.set_result(value)
        return value

    def _land(self, key: Hashable, flight: Future[Any]) -> None:
        if self._flights.get(key) is flight:  # a clear() may have started a new generation
            del self._flights[key]
        self._refreshing.discard(key)

    def _store(self, key: Hashable, value: Any, within: float | None) -> None:
        ttl = self.ttl
        lifetime = ttl if within is None else min(ttl, within)
        if lifetime <= 0:
            return
        now = self._clock()
        if lifetime == ttl:
            lifetime *= 1 - self._jitter * random.random()  # noqa: S311 - not a secret
            refresh_at = now + lifetime * (1 - self._ahead)
        else:  # it ends with what it holds: loading it again early would change nothing
            refresh_at = now + lifetime
        entries, order = self._entries, self._order
        if key in order:
            order.move_to_end(key)
        else:
            while len(order) >= self._max:
                oldest, _ = order.popitem(last=False)
                del entries[oldest]
                self.evictions += 1
            order[key] = None
        entries[key] = (refresh_at, now + lifetime, value)
        self._refreshing.discard(key)

    def discard(self, key: Hashable) -> None:
        """Drop one entry (its answer is known to be wrong now)."""
        with self._lock:
            if self._entries.pop(key, None) is not None:
                del self._order[key]

    def set_ttl(self, ttl: float, *, clear: bool = False) -> None:
        """New entries live ``ttl`` seconds from now on; ``clear`` drops the old ones too."""
        self.ttl = ttl
        if clear:
            self.clear()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._order.clear()
            self._flights = {}
            self._refreshing.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)
