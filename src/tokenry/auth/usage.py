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
from tokenry.storage.models import ApiToken, OAuthToken, UsageCounter


@dataclass(frozen=True, slots=True)
class LastUse:
    at: datetime
    ip: str
    user_agent: str


BucketKey = tuple[datetime, int, int, int, str, str]  # minute, account, token, user, ip, endpoint


Use = tuple[int, int, int, str, str, str, datetime]  # account, token, user, ip, agent, endpoint, at


class UsageRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uses: list[Use] = []
        self._oauth_uses: dict[int, datetime] = {}  # OAuth access token id: last use

    def record(self, account_id: int, token_id: int, user_id: int, ip: str, user_agent: str,
               endpoint: str, now: datetime) -> None:
        """The request path's whole cost: one tuple appended. Aggregation waits for flush."""
        use = (account_id, token_id, user_id, ip[:64], user_agent[:255], endpoint[:255], now)
        with self._lock:
            self._uses.append(use)

    def record_oauth(self, token_id: int, now: datetime) -> None:
        """An OAuth access token's use: only the latest time is kept (Zendesk's used_at)."""
        with self._lock:
            self._oauth_uses[token_id] = now

    def pending(self) -> int:
        return len(self._uses) + len(self._oauth_uses)

    def flush(self, db: Database) -> int:
        """Write what was gathered; returns how many rows it touched."""
        with self._lock:
            uses, self._uses = self._uses, []
            oauth_uses, self._oauth_uses = self._oauth_uses, {}
        if not uses and not oauth_uses:
            return 0
        last, counts = _aggregate(uses)
        try:
            with db.engine.begin() as connection:
                if oauth_uses:
                    connection.execute(
                        update(OAuthToken).where(OAuthToken.id == bindparam("token_id"))
                        .values(used_at=bindparam("at")),
                        [{"token_id": t, "at": at} for t, at in oauth_uses.items()],
                        execution_options={"synchronize_session": False})
                if not uses:
                    return len(oauth_uses)
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
                self._upsert_counts(connection, db.is_postgres, counts)
        except Exception:
            with self._lock:  # keep them for the next attempt, oldest first
                self._uses[:0] = uses
                for token_id, at in oauth_uses.items():
                    self._oauth_uses.setdefault(token_id, at)
            raise
        return len(last) + len(counts) + len(oauth_uses)

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
