"""Gauges read when Prometheus scrapes, never per request: pool use, outbox, cache size.

The outbox figures cost one query on the ``(status, next_attempt_at)`` index, limited to the
pending and dead rows (sent rows, the bulk of the table, are not read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from tokenry.storage.database import Database
from tokenry.storage.models import Notification


class ScrapeCollector(Collector):
    def __init__(self, db: Database, cache_size: Callable[[], int],
                 now: Callable[[], datetime]) -> None:
        self._db = db
        self._cache_size = cache_size
        self._now = now

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # nothing to check up front; registering must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._pool()
        yield from self._outbox()
        yield GaugeMetricFamily("tokenry_verify_cache_entries",
                                "Entries in this node's verification cache",
                                value=self._cache_size())

    def _pool(self) -> Iterator[GaugeMetricFamily]:
        engines = {"write": self._db.engine}
        if self._db.read_engine is not self._db.engine:
            engines["read"] = self._db.read_engine
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
