"""Figures read when Prometheus scrapes, never per request: pool use, outbox, the cache's size
and evictions.

The outbox figures cost one query on the ``(status, next_attempt_at)`` index, limited to the
pending and dead rows (sent rows, the bulk of the table, are not read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from tokenry.auth.cache import TTLCache
from tokenry.storage.database import Database
from tokenry.storage.models import Notification


class ScrapeCollector(Collector):
    def __init__(self, db: Database, cache: TTLCache, now: Callable[[], datetime]) -> None:
        self._db = db
        self._cache = cache
        self._now = now

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # nothing to check up front; registering must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self._pool()
        yield from self._outbox()
        yield GaugeMetricFamily("tokenry_verify_cache_entries",
                                "Entries in this node's verification cache",
                                value=len(self._cache))
        # the cache counts in a plain int on its miss path; the counter is read from it here
        yield CounterMetricFamily("tokenry_verify_cache_evictions", "Entries the verification "
                                  "cache dropped to stay within TOKENRY_VERIFY_CACHE_ENTRIES",
                                  value=self._cache.evictions)

    def _pool(self) -> Iterator[GaugeMetricFamily]:
        engines = {"write": self._db.engine}
        if self._db.read_engine is not self._db.engine:
            engines["read"] = self._db.read_engine
        if self._db.lookup_engine is not self._db.read_engine:
            engines["lookup"] = self._db.lookup_engine  # cache misses sent to a thread
        checked_out = GaugeMetricFamily("tokenry_db_pool_checked_out", "Database connections "
                                        "in use", labels=["engine"])
        size = GaugeMetricFamily("tokenry_db_pool_size", "Connections the pool keeps open "
                                 "(overflow connections come on top)", labels=["engine"])
        overflow = GaugeMetricFamily("tokenry_db_pool_overflow", "Connections open beyond "
                                     "the pool's size", labels=["engine"])
        for name, engine in engines.items():
            pool = engine.pool
            if isinstance(pool, QueuePool):
                checked_out.add_metric([name], pool.checkedout())
                size.add_metric([name], pool.size())
                overflow.add_metric([name], max(0, pool.overflow()))
        on_loop = self._db.lookup_pool
        if on_loop is not None:  # cache misses answered on the event loop
            checked_out.add_metric(["lookup_async"], on_loop.in_use)
            size.add_metric(["lookup_async"], on_loop.size)
        yield from (checked_out, size, overflow)

    def _outbox(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("tokenry_outbox_notifications", "Notifications in the "
                                  "outbox by status (pending: still to deliver; dead: given "
                                  "up)", labels=["status"])
        age = GaugeMetricFamily("tokenry_outbox_oldest_pending_age_seconds", "How long the "
                                "oldest pending notification has waited (0 when none)")
        up = GaugeMetricFamily("tokenry_outbox_scrape_ok", "1 when the outbox query worked")
        counts = {"pending": 0, "dead": 0}
        oldest: datetime | None = None
        try:
            with self._db.read() as session:
                rows = session.execute(
                    select(Notification.status, func.count(), func.min(Notification.created_at))
                    .where(Notification.status.in_(tuple(counts)))
                    .group_by(Notification.status)).all()
        except SQLAlchemyError:  # no figures rather than false zeros
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for status, count, first in rows:
            counts[status] = count
            if status == "pending":
                oldest = first
        for status, count in counts.items():
            depth.add_metric([status], count)
        age.add_metric([], max(0.0, (self._now() - oldest).total_seconds()) if oldest else 0.0)
        yield from (depth, age, up)
