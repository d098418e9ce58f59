"""A cache miss: on PostgreSQL one query on the event loop (psycopg's async connection), the
same identity as the thread path gives, one read for concurrent misses of one entry, and a
connection that died while idle costs a retry, not an error. On SQLite the event-loop path
declines and the thread path answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import ADMIN_EMAIL, POSTGRES_URL, basic, run_coroutine
from tokenry.auth.cache import MISSING
from tokenry.auth.lookups import Lookups
from tokenry.auth.misses import TokenReads
from tokenry.auth.verifier import NeedsLookup
from tokenry.core import Core
from tokenry.domain.errors import NotFound, Unauthenticated
from tokenry.domain.token_format import TokenHasher
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.create_oauth_token import create_oauth_token
from tokenry.operations.create_token import create_token
from tokenry.storage.database import LOOKUP_POOL_SIZE
from tokenry.storage.lookup_pool import LookupPool


def header(secret: str) -> str:
    return basic(ADMIN_EMAIL, secret)["Authorization"]


async def miss(core: Core, header: str, subdomain: str = "default") -> Any:
    """What tokenry.http.deps.authenticate does: memory first, then the event-loop path."""
    try:
        return core.verifier.authenticate_header(subdomain, header, cached_only=True)
    except NeedsLookup as needed:
        return await core.misses.authenticate_header(subdomain, header, needed)


def on_loop(core: Core, header: str) -> Any:
    return run_coroutine(miss(core, header))


def count_queries(pool: LookupPool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries the pool runs (the real pool runs them; this only writes them down)."""
    seen: list[str] = []
    real = pool.fetch

    async def counted(query: str, params: dict[str, Any]) -> Any:
        seen.append(query)
        return await real(query, params)

    monkeypatch.setattr(pool, "fetch", counted)
    return seen


def end_idle_lookup_connections() -> int:
    """Ends, from another session, the idle connections whose last query was a token or user
    read: the look-up pools' (their autocommit connections keep that as their last query)."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND state = 'idle' "
            "AND (query LIKE 'SELECT api_tokens.id, api_tokens.account_id, %%' "
            "OR query LIKE 'SELECT users.id, users.account_id, users.email, %%')").fetchone()
    assert row is not None
    return int(row[0])


def test_a_token_miss_answers_as_the_thread_path_does(core: Core, admin_actor: Actor) -> None:
    expires = datetime.now(UTC) + timedelta(days=3)
    secret = create_token(core, admin_actor, description="bound", expires_at=expires,
                          user_id=admin_actor.user_id, scopes=["users:read"]).secret
    answer = on_loop(core, header(secret))
    if not core.db.is_postgres:
        assert answer is None  # SQLite: the caller takes the thread path
        return
    core.cache.clear()
    from_thread = core.verifier.authenticate_header("default", header(secret))
    assert answer == from_thread
    assert answer.expires_at == expires.replace(microsecond=answer.expires_at.microsecond)
    assert answer.expires_at.utcoffset() == timedelta(0)
    assert answer.scopes == ("users:read",) and answer.token_bound
    assert core.cache.get(("account", "default")) == answer.account  # read on the loop too
    # Bearer: the token's bound user is read by id, on the event loop too
    core.cache.clear()
    assert on_loop(core, f"Bearer {secret}") == core.verifier.authenticate_header(
        "default", f"Bearer {secret}")


def test_a_miss_parses_and_hashes_the_header_once(
        core: Core, admin_actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    if core.db.lookup_pool is None:
        pytest.skip("the event-loop path is PostgreSQL's")
    secret = create_token(core, admin_actor, description="once").secret
    core.verifier.account("default")
    core.verifier.authenticate_header("default", header(create_token(
        core, admin_actor, description="warm").secret))  # the admin user is cached too
    hashed: list[str] = []
    real = TokenHasher.hash

    def counted(hasher: TokenHasher, secret: str) -> str:
        hashed.append(secret)
        return real(hasher, secret)

    monkeypatch.setattr(TokenHasher, "hash", counted)
    answer = on_loop(core, header(secret))
    assert answer is not None and answer.token_id is not None
    assert hashed == [secret]  # the pass after the read reuses the first pass's hash
    assert core.verifier.authenticate_header("default", header(secret),
                                             cached_only=True) == answer


def test_a_token_read_on_the_loop_is_kept_once_and_not_across_a_clear(
        core: Core, admin_actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = core.db.lookup_pool
    if pool is None:
        pytest.skip("the event-loop path is PostgreSQL's")
    warm = header(create_token(core, admin_actor, description="warm").secret)
    core.verifier.authenticate_header("default", warm)  # the account and the admin cached
    kept = header(create_token(core, admin_actor, description="kept").secret)
    entries = len(core.cache)
    assert on_loop(core, kept) is not None
    assert len(core.cache) == entries + 1  # the header's entry, holding the token
    core.verifier.authenticate_header("default", kept, cached_only=True)

    raced = header(create_token(core, admin_actor, description="raced").secret)
    core.verifier.authenticate_header("default", warm)
    real = pool.fetch

    async def cleared_meanwhile(query: str, params: dict[str, Any]) -> Any:
        row = await real(query, params)
        if "api_tokens" in query:
            core.cache.clear()  # an identity change committed while the token was read
        return row

    monkeypatch.setattr(pool, "fetch", cleared_meanwhile)
    assert on_loop(core, raced) is not None  # this request is answered from its read
    monkeypatch.setattr(pool, "fetch", real)
    with pytest.raises(NeedsLookup):  # but nothing read before the clear is kept
        core.verifier.authenticate_header("default", raced, cached_only=True)


def test_an_unknown_token_goes_to_the_thread_path_which_refuses_and_remembers(
        core: Core, admin_actor: Actor) -> None:
    if not core.db.is_postgres:
        pytest.skip("the event-loop path is PostgreSQL's")
    unknown = header("tkry_" + "A" * 38)
    # not under the current key: the thread path looks under every key (and reloads a
    # keyring another process may have rotated), then refuses and remembers
    assert on_loop(core, unknown) is None
    with pytest.raises(Unauthenticated):
        core.verifier.authenticate_header("default", unknown)
    with pytest.raises(Unauthenticated):  # from memory now
        core.verifier.authenticate_header("default", unknown, cached_only=True)
    with pytest.raises(NotFound):  # an unknown account, read on the loop too
        run_coroutine(miss(core, unknown, "nosuch"))


def test_an_oauth_access_token_miss_is_answered_on_the_event_loop(
        core: Core, admin_actor: Actor) -> None:
    client = create_oauth_client(core, admin_actor, ClientFields(
        name="miss", identifier="miss", kind="confidential", access_token_seconds=3600))
    access = create_oauth_token(core, admin_actor, client.client.id, "read").access_token
    core.verifier.account("default")
    answer = on_loop(core, f"Bearer {access}")
    if not core.db.is_postgres:
        assert answer is None
        return
    assert answer.oauth_token_id is not None and answer.scopes == ("read",)
    core.cache.clear()
    assert answer == core.verifier.authenticate_header("default", f"Bearer {access}")


def test_concurrent_misses_of_one_token_share_one_query(
        core: Core, admin_actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    if core.db.lookup_pool is None:
        pytest.skip("the event-loop path is PostgreSQL's")
    secret = create_token(core, admin_actor, description="hot").secret
    core.verifier.authenticate_header("default", header(create_token(
        core, admin_actor, description="warms the account and user").secret))
    queries = count_queries(core.db.lookup_pool, monkeypatch)

    async def many() -> list[Any]:
        return await asyncio.gather(*(miss(core, header(secret))
                                      for _ in range(20)))

    answers = run_coroutine(many())
    assert len(queries) == 1
    assert {a.token_id for a in answers} == {answers[0].token_id}


def test_misses_use_a_fixed_number_of_connections(core: Core, admin_actor: Actor) -> None:
    pool = core.db.lookup_pool
    if pool is None:
        pytest.skip("the event-loop path is PostgreSQL's")
    secrets = [create_token(core, admin_actor, description=f"t{i}").secret for i in range(30)]
    core.verifier.authenticate_header("default", header(secrets[0]))

    async def all_at_once() -> list[Any]:
        return await asyncio.gather(*(miss(core, header(s))
                                      for s in secrets[1:]))

    assert all(run_coroutine(all_at_once()))
    assert 1 <= pool.connections <= LOOKUP_POOL_SIZE


def test_a_connection_that_died_while_idle_costs_a_retry_not_an_error(
        core: Core, admin_actor: Actor) -> None:
    if core.db.lookup_pool is None:
        pytest.skip("a PostgreSQL server ends the connections here")
    first, second, third, fourth = (create_token(core, admin_actor, description=d).secret
                                    for d in ("a", "b", "c", "d"))

    async def twice() -> tuple[Any, Any]:
        # one event loop, as a server has: the pool's connection survives between misses
        before = await miss(core, header(first))
        assert core.db.lookup_pool is not None and core.db.lookup_pool.connections == 1
        assert end_idle_lookup_connections() >= 1
        return before, await miss(core, header(second))

    core.verifier.account("default")
    before, after = run_coroutine(twice())
    assert before is not None and after is not None and after.token_id != before.token_id
    # the thread path's pool, too
    assert core.verifier.authenticate_header("default", header(third)).token_id
    assert end_idle_lookup_connections() >= 1
    identity = core.verifier.authenticate_header("default", header(fourth))
    assert identity.user.email == ADMIN_EMAIL
    assert core.cache.get(("account", "default")) is not MISSING
    # an account's read (several rows: the account and its settings) retries as well
    assert end_idle_lookup_connections() >= 1
    assert core.verifier.account("default", fresh=True).subdomain == "default"


def test_a_shared_read_outlives_the_request_that_started_it(core: Core) -> None:
    """The request whose read the others wait on goes away (a client that hung up): the
    others still get an answer, from a read of their own."""
    started, release = asyncio.Event(), asyncio.Event()
    reads: list[str] = []

    async def slow_read() -> object:
        reads.append("read")
        started.set()
        await release.wait()
        return "the row"

    async def scene() -> object:
        leader = asyncio.ensure_future(core.misses._shared(("token", "x"), slow_read))
        await started.wait()
        follower = asyncio.ensure_future(core.misses._shared(("token", "x"), slow_read))
        await asyncio.sleep(0)  # the follower now waits on the leader's read
        leader.cancel()
        release.set()
        return await follower

    assert run_coroutine(scene()) == "the row"
    assert reads == ["read", "read"]


# --- batched token reads ------------------------------------------------------------------


def test_misses_that_arrive_while_every_reader_is_busy_are_read_together(
        core: Core, admin_actor: Actor) -> None:
    if core.db.lookup_pool is None:
        pytest.skip("the event-loop path is PostgreSQL's")
    secrets = [create_token(core, admin_actor, description=f"b{n}").secret for n in range(40)]
    core.verifier.authenticate_header("default", header(secrets[0]))  # account and user
    core.cache.clear()
    core.verifier.account("default")
    reads = core.misses.tokens

    async def many() -> list[Any]:
        return await asyncio.gather(*(miss(core, header(s)) for s in secrets))

    before = reads.batches
    answers = run_coroutine(many())
    expected = [core.verifier.authenticate_header("default", header(s)).token_id
                for s in secrets]
    assert [a.token_id for a in answers] == expected  # each its own token
    assert reads.batches - before < len(secrets) and reads.largest > 1


def one_reader(core: Core, admin_actor: Actor) -> tuple[TokenReads, list[str], Lookups]:
    """Token reads with a single reader over the server's own look-ups, and the hashes of
    three new tokens (PostgreSQL only)."""
    if core.db.lookup_pool is None:
        pytest.skip("the event-loop path is PostgreSQL's")
    lookups = Lookups(core.db)
    hashes = [core.hasher.hash(create_token(core, admin_actor, description=f"r{n}").secret)
              for n in range(3)]
    return TokenReads(lookups, 1), hashes, lookups


def test_a_failed_batch_fails_its_requests_and_the_next_read_works(
        core: Core, admin_actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    reads, hashes, lookups = one_reader(core, admin_actor)
    real = lookups.tokens
    calls: list[list[str]] = []

    async def failing_once(batch: list[str]) -> Any:
        calls.append(batch)
        await asyncio.sleep(0.01)  # the others queue up behind the one reader
        if len(calls) == 1:
            raise psycopg.OperationalError("the server went away")
        return await real(batch)

    monkeypatch.setattr(lookups, "tokens", failing_once)

    async def three() -> list[Any]:
        return await asyncio.gather(*(reads.read(h) for h in hashes), return_exceptions=True)

    first, *rest = run_coroutine(three())
    assert isinstance(first, psycopg.OperationalError)  # its batch failed
    assert [t.secret_hash for t in rest] == hashes[1:]  # read together by the next reader
    assert calls[1] == hashes[1:]
    again = run_coroutine(reads.read(hashes[0]))
    assert again is not None and again.secret_hash == hashes[0]


def test_a_cancelled_reader_leaves_its_batch_to_the_next(
        core: Core, admin_actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    reads, hashes, lookups = one_reader(core, admin_actor)
    real = lookups.tokens
    started = asyncio.Event()

    async def slow_first(batch: list[str]) -> Any:
        if not started.is_set():
            started.set()
            await asyncio.sleep(10)  # cancelled before this ends
        return await real(batch)

    monkeypatch.setattr(lookups, "tokens", slow_first)

    async def scenario() -> list[Any]:
        started.clear()
        reader = asyncio.ensure_future(reads.read(hashes[0]))
        await started.wait()
        others = [asyncio.ensure_future(reads.read(h)) for h in hashes[1:]]
        await asyncio.sleep(0)
        reader.cancel()  # the client of the request that was reading went away
        return await asyncio.wait_for(asyncio.gather(*others), timeout=5)

    answered = run_coroutine(scenario())
    assert [t.secret_hash for t in answered] == hashes[1:]
