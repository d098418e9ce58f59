"""Clears the verification cache when another process or node commits an identity change.

Within one process the commit hook clears the cache synchronously. Across processes (the CLI,
another server node) this watcher does it:

* PostgreSQL: ``LISTEN`` on the schema's channel (``tokenry_`` + md5 of the schema); every
  identity-changing transaction sends ``pg_notify`` to it as part of its commit, so other
  nodes drop their cache within milliseconds.
* SQLite: every identity-changing transaction bumps a generation row in ``server_info``; it
  is polled a few times a second. (Not ``PRAGMA data_version``: that also moves on the
  server's own usage writes, which would empty the cache every flush.)

If the watcher loses its connection it clears the cache and reconnects; the cache TTL stays
the upper bound on staleness whatever happens here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from tokenry.storage.database import GENERATION_KEY, IDENTITY_CHANNEL

log = logging.getLogger("tokenry.auth")


class InvalidationWatcher:
    def __init__(self, database_url: str, on_change: Callable[[], None],
                 poll_interval: float = 0.2) -> None:
        self._url = make_url(database_url)
        self._on_change = on_change
        self._poll = poll_interval
        self._stop = threading.Event()
        # Set once the watcher sees every later change; ``rounds`` counts the times it has
        # looked since, so a caller (a health check, a test) knows it has had its chance.
        self.ready = threading.Event()
        self.rounds = 0
        # True while the watcher is connected and watching (readiness asks for it)
        self.connected = False
        self._thread = threading.Thread(target=self._run, name="tokenry-invalidation",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        watch = self._watch_postgres if self._url.get_backend_name() == "postgresql" \
            else self._watch_sqlite
        while not self._stop.is_set():
            try:
                watch()
            except Exception as error:  # keep watching; never take the server down
                self.connected = False
                log.warning("cache invalidation watcher reconnecting: %s", type(error).__name__)
                self._on_change()
                self._stop.wait(1.0)

    def _watch_postgres(self) -> None:
        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            channel = connection.execute(f"SELECT {IDENTITY_CHANNEL}").fetchone()
            assert channel is not None
            connection.execute(f'LISTEN "{channel[0]}"')  # tokenry_ + 32 hex digits
            self._on_change()  # anything committed before LISTEN took effect
            self.ready.set()
            self.connected = True
            try:
                while not self._stop.is_set():
                    for _ in connection.notifies(timeout=self._poll, stop_after=1):
                        self._on_change()
                    self.rounds += 1
            finally:
                self.connected = False

    def _watch_sqlite(self) -> None:
        database = self._url.database
        if not database or database == ":memory:":
            self._stop.wait()
            return
        connection = sqlite3.connect(database, check_same_thread=False)
        query = "SELECT value FROM server_info WHERE key = ?"
        try:
            last = connection.execute(query, (GENERATION_KEY,)).fetchone()
            self.ready.set()
            self.connected = True
            while not self._stop.wait(self._poll):
                current = connection.execute(query, (GENERATION_KEY,)).fetchone()
                if current != last:
                    last = current
                    self._on_change()
                self.rounds += 1
        finally:
            self.connected = False
            connection.close()
