"""Cache misses answered on the event loop, one database read per key at a time.

The verifier is synchronous: asked with ``cached_only=True`` it answers from memory or names
the one cache entry it lacks (:class:`NeedsLookup`). Here that entry is read with
:meth:`Lookups.async_loader` (psycopg's async connection, no worker thread), kept with
:meth:`Verifier.remember`, and the verifier asked again: an API token's miss is one token read,
its account and user being cached already. The token itself goes back to the verifier in the
:class:`~tokenry.auth.verifier.Presented` and is cached only inside the header's entry: one
entry per miss, not two. Concurrent misses for the same entry share one
read. Whatever has no async read (SQLite, a password), or a cache that would not keep the
answer (a TTL of 0, an identity change in between), returns None: the caller then takes the
thread path, which reads without the cache.

A token is read here by its hash under the current key only. After a rotation (a keyring of
several keys), and for a token not found, the thread path answers: it looks under every key
and, on a miss, reloads a keyring another process may have rotated, which this path cannot
do without blocking the loop. A value read here is kept only if no identity change cleared
the cache while it was being read (its generation is taken first).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

from tokenry.auth.lookups import Lookups
from tokenry.auth.records import Identity, TokenRecord
from tokenry.auth.verifier import NeedsLookup, Verifier
from tokenry.domain.token_format import TokenHasher

HASHED = frozenset({"token", "access"})  # looked up by a hash under the server's keys

# An API token needs at most its token, its user and its account: one more try than that.
ATTEMPTS = 4


class TokenReads:
    """API-token reads on the event loop, batched while the look-up connections are busy.

    A request that misses puts its token's hash among the waiting ones. If fewer than
    ``readers`` reads are running (as many as the look-up pool has connections), it becomes a
    reader: it reads every hash waiting at that moment in one query (``= ANY(...)``), and
    again until its own answer is in. Otherwise it waits for a running reader, which takes
    the waiting hashes in its next batch; a reader whose own answer is in leaves the rest to
    a task of its own. So under load the misses that arrive while every connection is busy
    are read together, and one query's cost is shared by its batch; alone, a request reads
    its own hash at once, as before. Two requests for one hash share one read. A failed read
    fails its whole batch; a cancelled one puts its unanswered hashes back for the next.
    """

    def __init__(self, lookups: Lookups, readers: int) -> None:
        self._lookups = lookups
        self._limit = readers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = 0
        self._waiting: dict[str, asyncio.Future[TokenRecord | None]] = {}  # not yet taken
        self._unanswered: dict[str, asyncio.Future[TokenRecord | None]] = {}  # or in a read
        self._drains: set[asyncio.Task[None]] = set()  # referenced until done
        self.batches = 0  # queries made, for tests and curiosity
        self.largest = 0  # the most hashes one query read

    async def read(self, secret_hash: str) -> TokenRecord | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a test client's new loop: nothing carries over
            self._loop, self._waiting, self._unanswered, self._reading = loop, {}, {}, 0
        future = self._unanswered.get(secret_hash)
        if future is None:
            future = self._unanswered[secret_hash] = loop.create_future()
            self._waiting[secret_hash] = future
        if self._reading < self._limit:
            self._reading += 1
            try:
                while not future.done() and self._waiting:
                    await self._read_waiting()
            finally:
                self._reading -= 1
                self._hand_over(loop)
        if future.done():
            return future.result()
        # shielded: this request going away must not cancel the read others wait for too
        return await asyncio.shield(future)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hashes still waiting and a free reader's place: a task reads them."""
        if self._waiting and self._reading < self._limit and loop is self._loop:
            self._reading += 1
            task = loop.create_task(self._drain())
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await self._read_waiting()
        finally:
            self._reading -= 1
            if self._loop is not None:
                self._hand_over(self._loop)

    async def _read_waiting(self) -> None:
        batch, self._waiting = self._waiting, {}
        self.batches += 1
        self.largest = max(self.largest, len(batch))
        try:
            found = await self._lookups.tokens(list(batch))
        except asyncio.CancelledError:
            for secret_hash, future in batch.items():  # someone else reads them
                if not future.done():
                    self._waiting.setdefault(secret_hash, future)
            raise
        except Exception as error:
            for secret_hash, future in batch.items():
                self._answered(secret_hash, future)
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: no "never retrieved" log if none waited
            return
        for secret_hash, future in batch.items():
            self._answered(secret_hash, future)
            if not future.done():
                future.set_result(found.get(secret_hash))

    def _answered(self, secret_hash: str, future: asyncio.Future[TokenRecord | None]) -> None:
        if self._unanswered.get(secret_hash) is future:
            del self._unanswered[secret_hash]


class AsyncMisses:
    def __init__(self, verifier: Verifier, lookups: Lookups, hasher: TokenHasher,
                 readers: int) -> None:
        self._verifier = verifier
        self._lookups = lookups
        self._hasher = hasher
        self._flights: dict[tuple[object, ...], asyncio.Future[object]] = {}
        self.tokens = TokenReads(lookups, readers)

    async def authenticate_header(self, subdomain: str, header: str | None,
                                  needed: NeedsLookup) -> Identity | None:
        """The identity, or None when this path cannot answer (see the module's doc).
        ``needed`` is what the verifier, asked with ``cached_only``, said it lacked.
        Raises what the verifier raises for a refused credential."""
        verifier = self._verifier
        for _ in range(ATTEMPTS):
            key = needed.key
            if key is None or needed.refresh:
                return None
            hashed = key[0] in HASHED
            if hashed and len(self._hasher.keyring.keys) > 1:
                return None
            generation = verifier.generation
            if key[0] == "token":
                if not self._lookups.on_event_loop:
                    return None
                value: object = await self.tokens.read(str(key[1]))
            else:
                load = self._lookups.async_loader(key)
                if load is None:
                    return None
                value = await self._shared(key, load)
            if value is None and hashed:
                return None  # not under the current key: the thread path looks further
            presented = needed.presented
            if isinstance(value, TokenRecord) and presented is not None:
                # an API token goes to the next pass directly, and is cached only within
                # the header's entry
                presented = replace(presented, token=value, generation=generation
                                    if presented.generation is None else presented.generation)
            else:
                verifier.remember(key, value, generation)
            try:
                return verifier.authenticate_header(subdomain, header, cached_only=True,
                                                    presented=presented)
            except NeedsLookup as more:
                needed = more
        return None

    async def _shared(self, key: tuple[object, ...],
                      load: Callable[[], Awaitable[object]]) -> object:
        """``load()``, or the result of the same load another request is running now."""
        loop = asyncio.get_running_loop()
        flight = self._flights.get(key)
        if flight is not None and flight.get_loop() is loop:
            try:
                # shielded: a follower that goes away does not cancel the shared read
                return await asyncio.shield(flight)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not flight.cancelled() or (task is not None and task.cancelling()):
                    raise
                # the request that was reading went away: read it here instead
        flight = loop.create_future()
        self._flights[key] = flight
        try:
            value = await load()
        except BaseException as error:
            if isinstance(error, Exception):
                flight.set_exception(error)
                flight.exception()  # retrieved: no "never retrieved" log if none waited
            else:
                flight.cancel()
            raise
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.set_result(value)
        return value
