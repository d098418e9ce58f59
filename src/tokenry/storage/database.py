"""The engine, transactions, schema checks and the post-commit signal the auth cache uses
(identity writes: see ``IDENTITY_TABLES``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Executable, Row, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tokenry.storage.lookup_pool import LookupPool
from tokenry.storage.models import (
    Account,
    AccountSetting,
    ApiToken,
    OAuthClient,
    OAuthToken,
    User,
)

MIGRATIONS = Path(__file__).parent / "migrations"
# Committing a write to these clears the verification cache (here at once, elsewhere through
# the invalidation watcher). What the cache keeps, and what may make it wrong:
#   ("account", subdomain), None included      any Account or AccountSetting row, new ones too
#   ("user", account, email), None included    any User row: a new user may be a cached "no"
#   ("user-id", account, id)                   a changed or deleted User
#   ("token", hash) / ("access", hash), None   a changed or deleted ApiToken / OAuthToken;
#     included                                 a new one holds a new random secret, which no
#                                              cached "no" can be about
#   ("instance-base-url", account)             an AccountSetting row
#   a header's identity                        any of the above, or its OAuthClient changing
IDENTITY_TABLES = (Account, AccountSetting, User)
# Changing or deleting these ends credentials; a new row (an issued token) ends none, so
# issuing does not clear the cache.
REVOKING_TABLES = (ApiToken, OAuthClient, OAuthToken)
# One channel per schema, so installations sharing a PostgreSQL database in different schemas
# do not clear each other's caches: the name is computed by the server from current_schema().
IDENTITY_CHANNEL = "'tokenry_' || md5(current_schema())"
NOTIFY_IDENTITY = f"SELECT pg_notify({IDENTITY_CHANNEL}, '')"
GENERATION_KEY = "identity_generation"
BUMP_GENERATION = (
    "INSERT INTO server_info (key, value) VALUES ('identity_generation', '1') "
    "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)


# Connections kept open for requests that read or write (a cache miss has pools of its own,
# below). They are opened as concurrency needs them and then kept: the old 10 plus 20
# overflow connections, closed again on return, opened a PostgreSQL session every few
# requests under load. Overflow remains for bursts past 20 worker threads at once.
POOL_SIZE = 20
# Connections for the verifier's single-row look-ups (a cache miss), in each of two pools:
# the event loop's (``lookup_pool``) and the worker threads' (``lookup_engine``). Both are
# autocommit, so a look-up is one round trip (no BEGIN, no ROLLBACK on return, no pre-ping).
# A miss holds its connection for one query, so a few connections serve many misses.
LOOKUP_POOL_SIZE = 8
# A connection older than this is replaced when next checked out, so that connections the
# server or a proxy closed while idle are not kept for ever; one that broke in between is
# noticed by the query that uses it (see ``lookup``).
POOL_RECYCLE = 600


class SchemaOutOfDate(RuntimeError):
    pass


def _sqlite_setup(engine: Engine, *, begin: str) -> None:
    """WAL, foreign keys and a busy timeout; ``begin`` is the statement that opens a transaction.

    Writers use ``BEGIN IMMEDIATE``: pysqlite's own BEGIN is deferred, which would let a
    count-then-insert (the token limit) interleave with another writer. Readers keep a plain
    deferred BEGIN so that WAL lets them run beside a writer.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


class Database:
    """One engine and session factory; ``transaction()`` is the unit of work for use cases."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs.update(pool_size=POOL_SIZE, max_overflow=10, pool_pre_ping=True,
                          pool_recycle=POOL_RECYCLE)
        # Bound values (a delivery's ciphertext, a password hash) never reach a log line or an
        # exception message.
        kwargs["hide_parameters"] = True
        self.url = url
        self.engine = create_engine(url, **kwargs)
        self.read_engine = self.engine
        if is_sqlite:
            _sqlite_setup(self.engine, begin="BEGIN IMMEDIATE")
            self.read_engine = create_engine(url, **kwargs)
            _sqlite_setup(self.read_engine, begin="BEGIN")
            self.lookup_engine = self.read_engine
            self.lookup_pool: LookupPool | None = None
        else:
            self.lookup_engine = create_engine(
                url, echo=echo, hide_parameters=True, isolation_level="AUTOCOMMIT",
                pool_size=LOOKUP_POOL_SIZE, max_overflow=0, pool_recycle=POOL_RECYCLE)
            libpq = make_url(url).set(drivername="postgresql")
            self.lookup_pool = LookupPool(libpq.render_as_string(hide_password=False),
                                          LOOKUP_POOL_SIZE)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._identity_listeners: list[Callable[[], None]] = []
        self._watch_identity_writes()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def on_identity_change(self, listener: Callable[[], None]) -> None:
        self._identity_listeners.append(listener)

    def _watch_identity_writes(self) -> None:
        def mark(session: Session, *_: Any) -> None:
            # after_flush still sees what the flush wrote in new/dirty/deleted.
            touched = (*session.new, *session.dirty, *session.deleted)
            changed = (*session.dirty, *session.deleted)
            if (any(isinstance(obj, IDENTITY_TABLES) for obj in touched)
                    or any(isinstance(obj, REVOKING_TABLES) for obj in changed)) \
                    and not session.info.get("identity_changed"):
                session.info["identity_changed"] = True
                # Tell other processes, as part of this transaction (so only if it commits):
                # PostgreSQL nodes LISTEN; SQLite servers poll the generation row.
                statement = NOTIFY_IDENTITY if self.is_postgres else BUMP_GENERATION
                session.connection().exec_driver_sql(statement)

        def notify(session: Session) -> None:
            if session.info.pop("identity_changed", False):
                for listener in self._identity_listeners:
                    listener()

        def forget(session: Session) -> None:
            session.info.pop("identity_changed", None)

        event.listen(self.sessions, "after_flush", mark)
        event.listen(self.sessions, "after_commit", notify)
        event.listen(self.sessions, "after_soft_rollback", lambda s, _t: forget(s))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries only; on SQLite it does not take the write lock."""
        with self._read_sessions() as session:
            yield session

    def lookup(self, statement: Executable, params: dict[str, Any]) -> list[Row[Any]]:
        """The rows of a read-only query, in one round trip on PostgreSQL.

        There is no pre-ping: a connection that died while idle (a database restart) fails
        its query, SQLAlchemy then discards every connection of that age, and the query is
        tried once more on a fresh one.
        """
        try:
            return self._lookup(statement, params)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self._lookup(statement, params)

    def lookup_one(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        """The first row of :meth:`lookup` (the verifier's look-ups find one row or none)."""
        rows = self.lookup(statement, params)
        return rows[0] if rows else None

    def _lookup(self, statement: Executable, params: dict[str, Any]) -> list[Row[Any]]:
        with self.lookup_engine.connect() as connection:
            return list(connection.execute(statement, params).all())

    # --- schema -------------------------------------------------------------------------
    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return config

    def upgrade(self) -> None:
        new_file = self._sqlite_path()
        if new_file is not None and not new_file.exists():
            # A new database holds password hashes and sealed deliveries: owner-only from
            # the start (SQLite gives its -wal and -shm files the same mode).
            new_file.touch(mode=0o600)
        self._migrate(lambda config: command.upgrade(config, "head"))

    def downgrade(self, revision: str) -> None:
        self._migrate(lambda config: command.downgrade(config, revision))

    def _migrate(self, run: Callable[[Config], None]) -> None:
        config = self._alembic_config()
        with self.engine.connect() as connection:
            raw: Any = connection.connection.dbapi_connection
            if self.engine.dialect.name == "sqlite":
                # A migration that rebuilds a table drops the old one; with foreign keys on,
                # that drop would cascade into every table that refers to it. The pragma
                # cannot change inside a transaction, so it is set before the first one.
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    run(config)
                    if self.engine.dialect.name == "sqlite":
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                        if broken is not None:
                            raise RuntimeError(f"migration broke a foreign key: {tuple(broken)}")
            finally:
                if self.engine.dialect.name == "sqlite":
                    raw.execute("PRAGMA foreign_keys=ON")

    def _sqlite_path(self) -> Path | None:
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def check_schema(self) -> None:
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            raise SchemaOutOfDate(
                f"The database schema is at revision {current or 'none (empty database)'} but "
                f"this tokenry needs {head}. Run `tokenry db upgrade` (or `tokenry init`) first."
            )

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()
        self.lookup_engine.dispose()
        if self.lookup_pool is not None:
            self.lookup_pool.close()
