"""Clears the verification cache when another process or node commits an identity change.

Within one process the commit hook clears the cache synchronously. Across processes (the CLI,
another server node) this watcher does it:

* PostgreSQL: ``LISTEN`` on the schema's channel (``tokenry_`` + md5 of the schema); every
  identity-changing transaction sends ``pg_notify`` to it as part of its commit, so other
  nodes drop their cache within milliseconds.
* SQLite: every identity-changing transaction bumps a generation row in ``server_info``; it
  is polled a few times a second. (Not ``PRAGMA data_version``: that also moves on the
  server's own usage writes, which would empty the cache every flush.)

``on_listening(True)`` is called once the watcher hears every later change, and
``on_listening(False)`` as soon as it stops hearing them (before it clears the cache and
reconnects): a server keeps entries long only in between (see :mod:`tokenry.core`).

A PostgreSQL connection that dies without closing (a partition) would leave ``LISTEN``
silent, so the watcher also sends ``SELECT 1`` every ``PING_SECONDS``, and TCP keepalives and
``tcp_user_timeout`` bound how long that can hang: such a loss is noticed within about 15 s.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from tokenry.storage.database import GENERATION_KEY, IDENTITY_CHANNEL

log = logging.getLogger("tokenry.auth")
PING_SECONDS = 2.0
# libpq: notice a peer that stopped answering within seconds, not the kernel's 15 minutes
TCP_OPTIONS = {"keepalives": "1", "keepalives_idle": "5", "keepalives_interval": "2",
               "keepalives_count": "3", "tcp_user_timeout": "10000",
               "application_name": "tokenry-invalidation"}


class InvalidationWatcher:
    def __init__(self, database_url: str, on_change: Callable[[], None],
                 poll_interval: float = 0.2, *,
                 on_listening: Callable[[bool], None] | None = None) -> None:
        self._url = make_url(database_url)
        self._on_change = on_change
        self._on_listening = on_listening
        self._poll = poll_interval
        self._stop = threading.Event()
        # Set once the watcher sees every later change; ``rounds`` counts the times it has
        # looked since, so a caller (a health check, a test) knows it has had its chance.
        self.ready = threading.Event()
        self.rounds = 0
        # True while the watcher is connected and watching (readiness asks for it)
        self.connected = False
        self.backend_pid: int | None = None  # PostgreSQL: the listening session's
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
                self._listening(False)
                log.warning("cache invalidation watcher reconnecting: %s", type(error).__name__)
                self._on_change()
                self._stop.wait(1.0)

    def _listening(self, connected: bool) -> None:
        was, self.connected = self.connected, connected
        if was != connected and self._on_listening is not None:
            self._on_listening(connected)

    def _watch_postgres(self) -> None:
        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(make_conninfo(conninfo, **TCP_OPTIONS),
                             autocommit=True) as connection:
            self.backend_pid = connection.info.backend_pid
            channel = connection.execute(f"SELECT {IDENTITY_CHANNEL}").fetchone()
            assert channel is not None
            connection.execute(f'LISTEN "{channel[0]}"')  # tokenry_ + 32 hex digits
            self._on_change()  # anything committed before LISTEN took effect
            self.ready.set()
            self._listening(True)
            try:
                pinged = time.monotonic()
                while not self._stop.is_set():
                    for _ in connection.notifies(timeout=self._poll, stop_after=1):
                        self._on_change()
                    if time.monotonic() - pinged >= PING_SECONDS:
                        connection.execute("SELECT 1")
                        pinged = time.monotonic()
                    self.rounds += 1
            finally:
                self._listening(False)

    def _watch_sqlite(self) -> None:
        database = self._url.database
        if not database or database == ":memory:":
            self._stop.wait()
            return
        connection = sqlite3.connect(database, check_same_thread=False)
        query = "SELECT value FROM server_info WHERE key = ?"
        try:
            last = connection.execute(query, (GENERATION_KEY,)).fetchone()
            # a load that read the database before ``last`` may hold a change it missed:
            # a new generation of the cache will not keep it (long, from here on)
            self._on_change()
            self.ready.set()
            self._listening(True)
            while not self._stop.wait(self._poll):
                current = connection.execute(query, (GENERATION_KEY,)).fetchone()
                if current != last:
                    last = current
                    self._on_change()
                self.rounds += 1
        finally:
            self._listening(False)
            connection.close()
