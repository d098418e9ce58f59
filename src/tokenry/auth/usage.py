"""Last-used times and per-minute usage counts, gathered in memory and written in batches.

A request never writes to the database. :meth:`UsageRecorder.flush` runs every
``usage_flush_interval`` seconds and at shutdown. It writes in chunks of ``FLUSH_BATCH`` rows,
one statement per chunk and table: on PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` for the
last-used times and one ``INSERT ... ON CONFLICT`` for the counters; on SQLite (in process,
no round trips) an executemany. A failed flush keeps its data for the next attempt.

The buffer is bounded: while the database is down it holds at most ``limit`` uses (and as
many OAuth last-use times); past that the oldest are dropped. Drops are counted
(:attr:`UsageRecorder.dropped`) and logged once per flush, never silently.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, column, or_, update, values
from sqlalchemy.dialects import postgresql, sqlite

from tokenry.storage.database import Database
from tokenry.storage.models import ApiToken, OAuthToken, UsageCounter
from tokenry.storage.types import IdType, UTCDateTime

log = logging.getLogger("tokenry.usage")

BUFFER_LIMIT = 100_000  # uses held in memory; about 30 MB at most
FLUSH_BATCH = 1_000  # rows per statement


@dataclass(frozen=True, slots=True)
class LastUse:
    at: datetime
    ip: str
    user_agent: str


BucketKey = tuple[datetime, int, int, int, str, str]  # minute, account, token, user, ip, endpoint


Use = tuple[int, int, int, str, str, str, datetime]  # account, token, user, ip, agent, endpoint, at


class UsageRecorder:
    def __init__(self, limit: int = BUFFER_LIMIT) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._uses: deque[Use] = deque()
        self._oauth_uses: dict[int, datetime] = {}  # OAuth access token id: last use
        self._dropped_since_flush = 0
        self.dropped = 0  # uses lost to the bound since start, for operators and tests

    def record(self, account_id: int, token_id: int, user_id: int, ip: str, user_agent: str,
               endpoint: str, now: datetime) -> None:
        """The request path's whole cost: one tuple appended. Aggregation waits for flush."""
        use = (account_id, token_id, user_id, ip[:64], user_agent[:255], endpoint[:255], now)
        with self._lock:
            if len(self._uses) >= self._limit:
                self._uses.popleft()
                self._count_drops(1)
            self._uses.append(use)

    def record_oauth(self, token_id: int, now: datetime) -> None:
        """An OAuth access token's use: only the latest time is kept (Zendesk's used_at)."""
        with self._lock:
            if token_id not in self._oauth_uses and len(self._oauth_uses) >= self._limit:
                del self._oauth_uses[next(iter(self._oauth_uses))]  # the oldest recorded
                self._count_drops(1)
            self._oauth_uses[token_id] = now

    def pending(self) -> int:
        return len(self._uses) + len(self._oauth_uses)

    def _count_drops(self, count: int) -> None:
        self._dropped_since_flush += count
        self.dropped += count

    def flush(self, db: Database) -> int:
        """Write what was gathered; returns how many rows it touched."""
        with self._lock:
            uses, self._uses = list(self._uses), deque()
            oauth_uses, self._oauth_uses = self._oauth_uses, {}
            dropped, self._dropped_since_flush = self._dropped_since_flush, 0
        if dropped:
            log.warning("usage buffer full: dropped the %d oldest use(s) since the last flush; "
                        "their last-used times and counts are lost", dropped)
        if not uses and not oauth_uses:
            return 0
        last, counts = _aggregate(uses)
        try:
            with db.engine.begin() as connection:
                _write_oauth_uses(connection, db.is_postgres, oauth_uses)
                _write_last_uses(connection, db.is_postgres, last)
                _upsert_counts(connection, db.is_postgres, counts)
        except Exception:
            self._keep(uses, oauth_uses)
            raise
        return len(last) + len(counts) + len(oauth_uses)

    def _keep(self, uses: list[Use], oauth_uses: dict[int, datetime]) -> None:
        """Put a failed flush's data back in front of what came since, within the bound."""
        with self._lock:
            self._uses.extendleft(reversed(uses))
            over = len(self._uses) - self._limit
            for _ in range(max(over, 0)):
                self._uses.popleft()
            for token_id, at in oauth_uses.items():
                self._oauth_uses.setdefault(token_id, at)
            extra = len(self._oauth_uses) - self._limit
            for token_id in list(self._oauth_uses)[:max(extra, 0)]:
                del self._oauth_uses[token_id]
            self._count_drops(max(over, 0) + max(extra, 0))


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), FLUSH_BATCH):
        yield list(rows[start:start + FLUSH_BATCH])


def _write_oauth_uses(connection: Connection, is_postgres: bool,
                      oauth_uses: dict[int, datetime]) -> None:
    rows = [{"id": t, "at": at} for t, at in oauth_uses.items()]
    for chunk in _chunks(rows):
        if is_postgres:
            given = values(column("id", IdType), column("at", UTCDateTime()),
                           name="used").data([(r["id"], r["at"]) for r in chunk])
            connection.execute(update(OAuthToken).where(OAuthToken.id == given.c.id)
                               .values(used_at=given.c.at))
        else:
            connection.execute(update(OAuthToken).where(OAuthToken.id == bindparam("t"))
                               .values(used_at=bindparam("at")),
                               [{"t": r["id"], "at": r["at"]} for r in chunk])


def _write_last_uses(connection: Connection, is_postgres: bool,
                     last: dict[int, LastUse]) -> None:
    rows = [{"t": t, "at": u.at, "ip": u.ip, "ua": u.user_agent} for t, u in last.items()]
    for chunk in _chunks(rows):
        if is_postgres:  # one statement per chunk; a later use already written wins
            given = values(column("id", IdType), column("at", UTCDateTime()),
                           column("ip", String), column("ua", String), name="used").data(
                [(r["t"], r["at"], r["ip"], r["ua"]) for r in chunk])
            connection.execute(
                update(ApiToken).where(ApiToken.id == given.c.id)
                .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < given.c.at))
                .values(last_used_at=given.c.at, last_used_ip=given.c.ip,
                        last_used_user_agent=given.c.ua))
        else:
            connection.execute(
                update(ApiToken).where(ApiToken.id == bindparam("t"))
                .where(or_(ApiToken.last_used_at.is_(None),
                           ApiToken.last_used_at < bindparam("at")))
                .values(last_used_at=bindparam("at"), last_used_ip=bindparam("ip"),
                        last_used_user_agent=bindparam("ua")),
                chunk)


def _upsert_counts(connection: Connection, is_postgres: bool,
                   counts: Counter[BucketKey]) -> None:
    dialect_insert = postgresql.insert if is_postgres else sqlite.insert
    rows = [
        {"minute": m, "account_id": a, "token_id": t, "user_id": u, "ip_address": ip,
         "endpoint": e, "count": n}
        for (m, a, t, u, ip, e), n in counts.items()
    ]
    statement = dialect_insert(UsageCounter)
    statement = statement.on_conflict_do_update(
        index_elements=["minute", "token_id", "user_id", "ip_address", "endpoint"],
        set_={"count": UsageCounter.count + statement.excluded.count},
    )
    for chunk in _chunks(rows):  # insertmanyvalues makes each chunk one INSERT
        connection.execute(statement, chunk)


def _aggregate(uses: list[Use]) -> tuple[dict[int, LastUse], Counter[BucketKey]]:
    last: dict[int, LastUse] = {}
    counts: Counter[BucketKey] = Counter()
    for account_id, token_id, user_id, ip, agent, endpoint, at in uses:
        known = last.get(token_id)
        if known is None or known.at <= at:
            last[token_id] = LastUse(at, ip, agent)
        counts[(at.replace(second=0, microsecond=0), account_id, token_id, user_id, ip,
                endpoint)] += 1
    return last, counts
