"""A small asyncio pool of psycopg connections for the verifier's single-row reads.

A cache miss on PostgreSQL is one indexed query. Sent from a worker thread, the hop to the
thread and the hand-over of the GIL around it cost more CPU than the query; sent from the
event loop on psycopg's async connection, the request never leaves the loop.

The connections are autocommit (one round trip per query, no transaction to end), opened
only as concurrency needs them, never more than ``size`` (a request waits for a free one
instead of opening another), and each query is a server-side prepared statement. There is no
pre-ping: a connection that broke while idle (a database restart) fails its query, is thrown
away, and the query is tried once more on a new one. The pool belongs to the event loop that
first used it; used from another loop (a test client's), it starts afresh.
"""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg import AsyncConnection, AsyncCursor, OperationalError


class LookupPool:
    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._free = asyncio.Semaphore(size)  # a query in flight holds one
        self._idle: list[AsyncConnection[Any]] = []
        self._open: set[AsyncConnection[Any]] = set()
        # one cursor per connection, reused: a new one per query costs more than the query
        self._cursors: dict[AsyncConnection[Any], AsyncCursor[Any]] = {}

    @property
    def connections(self) -> int:
        """Connections open now (idle or running a query)."""
        return len(self._open)

    @property
    def in_use(self) -> int:
        """Connections running a query now."""
        return len(self._open) - len(self._idle)

    @property
    def size(self) -> int:
        return self._size

    async def fetch_one(self, query: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of ``query`` (``%(name)s`` parameters), or None."""
        rows = await self.fetch(query, params)
        return rows[0] if rows else None

    async def fetch(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of ``query``."""
        try:
            return await self._fetch(query, params)
        except OperationalError:
            # The connection broke (and was discarded): once more, on a fresh one.
            return await self._fetch(query, params)

    async def _fetch(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.close()
            self._loop = loop
        async with self._free:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                cursor = self._cursors.get(connection)
                if cursor is None:
                    cursor = self._cursors[connection] = connection.cursor()
                # binary results: psycopg's binary loaders skip parsing text (timestamps)
                await cursor.execute(query, params, prepare=True, binary=True)
                rows = await cursor.fetchall()
            except BaseException:
                # A failed or cancelled query may leave the connection mid-protocol.
                self._discard(connection)
                raise
            self._idle.append(connection)
            return rows

    async def _connect(self) -> AsyncConnection[Any]:
        connection = await AsyncConnection.connect(self._conninfo, autocommit=True)
        self._open.add(connection)
        return connection

    def _discard(self, connection: AsyncConnection[Any]) -> None:
        self._open.discard(connection)
        self._cursors.pop(connection, None)
        connection.pgconn.finish()  # closes the socket now, from any thread or loop

    def close(self) -> None:
        """Close every connection (they are idle, or their loop is gone)."""
        for connection in list(self._open):
            self._discard(connection)
        self._idle = []
        self._free = asyncio.Semaphore(self._size)
