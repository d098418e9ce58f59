"""Last-used times and per-minute usage counts, gathered in memory and written in batches.

A request never writes to the database. :meth:`UsageRecorder.flush` runs every
``usage_flush_interval`` seconds and at shutdown: one UPDATE per token that was used and one
upsert per (minute, token, user, IP, endpoint) bucket. A failed flush keeps its data for the
next attempt.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from tokenry.storage.database import Database
from tokenry.storage.models import ApiToken, UsageCounter


@dataclass(frozen=True, slots=True)
class LastUse:
    at: datetime
    ip: str
    user_agent: str


BucketKey = tuple[datetime, int, int, int, str, str]  # minute, account, token, user, ip, endpoint


class UsageRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[int, LastUse] = {}
        self._counts: Counter[BucketKey] = Counter()

    def record(self, *, account_id: int, token_id: int, user_id: int, ip: str,
               user_agent: str, endpoint: str, now: datetime) -> None:
        minute = now.replace(second=0, microsecond=0)
        with self._lock:
            self._last[token_id] = LastUse(now, ip[:64], user_agent[:255])
            self._counts[(minute, account_id, token_id, user_id, ip[:64], endpoint[:255])] += 1

    def pending(self) -> int:
        return len(self._last) + len(self._counts)

    def flush(self, db: Database) -> int:
        """Write what was gathered; returns how many rows it touched."""
        with self._lock:
            last, counts = self._last, self._counts
            self._last, self._counts = {}, Counter()
        if not last and not counts:
            return 0
        try:
            with db.engine.begin() as connection:
                if last:
                    connection.execute(
                        update(ApiToken)
                        .where(ApiToken.id == bindparam("token_id"))
                        .where(or_(ApiToken.last_used_at.is_(None),
                                   ApiToken.last_used_at < bindparam("at")))
                        .values(last_used_at=bindparam("at"), last_used_ip=bindparam("ip"),
                                last_used_user_agent=bindparam("ua")),
                        [{"token_id": t, "at": u.at, "ip": u.ip, "ua": u.user_agent}
                         for t, u in last.items()],
                        execution_options={"synchronize_session": False},
                    )
                if counts:
                    self._upsert_counts(connection, db.is_postgres, counts)
        except Exception:
            self._restore(last, counts)
            raise
        return len(last) + len(counts)

    @staticmethod
    def _upsert_counts(connection: object, is_postgres: bool,
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
        connection.execute(statement, rows)  # type: ignore[attr-defined]

    def _restore(self, last: dict[int, LastUse], counts: Counter[BucketKey]) -> None:
        with self._lock:
            for token_id, use in last.items():
                newer = self._last.get(token_id)
                if newer is None or newer.at < use.at:
                    self._last[token_id] = use
            self._counts.update(counts)
