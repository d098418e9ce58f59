"""Readiness: may this node take traffic? Liveness (``/healthz``) is a separate question.

Three checks, in order, each named in the answer so an operator sees which one failed:

* ``database``: one trivial query succeeds;
* ``schema``: the database is at the migration head this code was built for;
* ``listener``: on PostgreSQL, the thread that LISTENs for other nodes' identity changes is
  connected; without it this node would keep serving revoked credentials until its cache
  TTL runs out. (SQLite is single-node; its watcher is not required.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tokenry.auth.invalidation import InvalidationWatcher
from tokenry.storage.database import Database


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())


def check_readiness(db: Database, head: str | None,
                    watcher: InvalidationWatcher | None) -> Readiness:
    """``head`` is the migration head, read once at start-up (it parses the scripts)."""
    result = Readiness()
    try:
        with db.read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        result.checks["database"] = "ok"
    except SQLAlchemyError as error:
        # the class name only: a driver's message can carry the host or user name
        result.checks["database"] = f"unreachable ({type(error).__name__})"
        result.checks["schema"] = "unknown: the database is unreachable"
    else:
        try:
            current = db.current_revision()
        except SQLAlchemyError as error:
            result.checks["schema"] = f"unreadable ({type(error).__name__})"
        else:
            result.checks["schema"] = "ok" if current == head else \
                f"at revision {current or 'none'}, this code needs {head}"
    if db.is_postgres:
        result.checks["listener"] = "ok" if watcher is not None and watcher.connected else \
            "not listening for other nodes' identity changes"
    return result
