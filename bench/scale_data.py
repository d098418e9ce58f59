"""The million-row data set the scale benchmarks run on, built once and kept between runs.

``ensure(url)`` returns a :class:`ScaleData` whose PostgreSQL schema holds one account with
1,000,000 API tokens and 1,000,000 audit events. The schema is made by tokenry itself
(migrations, then the bootstrap that creates the account and its admin); the tokens and the
events are then written with ``COPY``, the tokens hashed by tokenry's own
:class:`~tokenry.domain.token_format.TokenHasher` with the data set's server secret, so a
server started with :meth:`ScaleData.env` verifies them as any other.

Building takes about a minute; afterwards the schema is reused. Its name carries the counts
and a digest of what the rows depend on (this module's format version and the migration
head), so a checkout at another migration builds its own beside it; ``--clean`` drops the
others. A marker row in ``server_info`` is written last, so an interrupted build is redone;
``--rebuild`` forces one. The account's token limit does not apply to rows written this
way: one account with a million tokens is the point.

Token ``i``'s secret is derived from ``i`` (an HMAC with a fixed benchmark key, written in the
token alphabet with a valid checksum), so every benchmark can present any token it wants
without the data set storing a single secret.

Run it directly to build or check the data set:
``.venv/bin/python bench/scale_data.py [--tokens N] [--events N] [--rebuild]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from tokenry.config import Settings
from tokenry.core import build_core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.token_format import (
    BASE62,
    BODY_LENGTH,
    TokenHasher,
    checksum,
    truncate,
)
from tokenry.operations.bootstrap import bootstrap

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
FORMAT = 2  # bump when the rows written here change shape
MARKER = "bench_scale"
SECRET_KEY = "bench-scale-server-secret-" + "s" * 24  # >= 32 chars; never a real secret
SEED_KEY = b"tokenry-bench-scale-token-seed"
PREFIX = "tkry"
SUBDOMAIN = "default"
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-admin-password-123"  # noqa: S105 - a benchmark's throwaway account
PEOPLE = 50  # users in the account, the actors of the audit events
EVENT_DAYS = 365  # the events spread over the year before the build
CHUNK = 50_000  # rows per COPY progress report
# Which actions the audit events carry, with their weights: mostly the token life cycle,
# some of everything the audit log filters by.
EVENT_ACTIONS = (
    (Action.CREATE, 30), (Action.UPDATE, 20), (Action.DEACTIVATE, 8), (Action.REACTIVATE, 4),
    (Action.DESTROY, 8), (Action.LOGIN, 20), (Action.EXPORT, 1), (Action.APPROVE, 4),
    (Action.DENY, 1), (Action.ROTATE, 2), (Action.REVOKE, 2),
)
EVENT_SOURCES = (
    (SourceType.API_TOKEN, 70), (SourceType.USER, 15), (SourceType.ACCOUNT_SETTING, 5),
    (SourceType.ACCESS_REQUEST, 8), (SourceType.OAUTH_CLIENT, 2),
)


@dataclass(frozen=True)
class ScaleData:
    """A built data set: where it is and how to present its tokens."""

    url: str  # tokenry's database URL: the base URL with the data set's search_path
    schema: str
    tokens: int
    events: int
    subdomain: str = SUBDOMAIN
    admin_email: str = ADMIN_EMAIL
    admin_password: str = ADMIN_PASSWORD
    secret_key: str = SECRET_KEY

    def token_secret(self, index: int) -> str:
        if not 0 <= index < self.tokens:
            raise IndexError(f"the data set has tokens 0..{self.tokens - 1}")
        return token_secret(index)

    def header(self, index: int) -> str:
        """The ``Authorization`` header for token ``index`` (Zendesk's email/token form)."""
        pair = f"{self.admin_email}/token:{self.token_secret(index)}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def env(self) -> dict[str, str]:
        """The environment for ``tokenry serve`` (or any tokenry command) on this data set."""
        return {
            "TOKENRY_DATABASE_URL": self.url,
            "TOKENRY_SECRET_KEY": self.secret_key,
            "TOKENRY_ADMIN_EMAIL": self.admin_email,
            "TOKENRY_ADMIN_PASSWORD": self.admin_password,
            "TOKENRY_DEFAULT_SUBDOMAIN": self.subdomain,
            "TOKENRY_TOKEN_PREFIX": PREFIX,
            "TOKENRY_SCHEDULER_ENABLED": "false",  # benchmarks measure requests, not jobs
            "TOKENRY_SETTINGS_FILE": "/dev/null",  # no ./tokenry.env may change the server
        }

    def settings(self) -> Settings:
        return Settings(database_url=self.url, secret_key=self.secret_key,
                        admin_email=self.admin_email, admin_password=self.admin_password,
                        default_subdomain=self.subdomain, token_prefix=PREFIX,
                        scheduler_enabled=False)


def token_secret(index: int) -> str:
    """Token ``index``'s secret: 32 base62 characters from an HMAC of the index, then the
    format's checksum, so it is a well-formed token that only this module can reproduce."""
    number = int.from_bytes(hmac.new(SEED_KEY, str(index).encode(), hashlib.sha256).digest())
    digits = []
    for _ in range(BODY_LENGTH):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    head = f"{PREFIX}_{''.join(digits)}"
    return head + checksum(head)


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure(url: str = DEFAULT_URL, *, tokens: int = 1_000_000, events: int = 1_000_000,
           rebuild: bool = False) -> ScaleData:
    """The data set with these counts, built now unless an identical one is already there."""
    wanted = _parameters(tokens, events)
    # named by everything it depends on, so a checkout at another migration, or a run with
    # other counts, builds its own instead of rebuilding this one
    digest = hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:10]
    schema = f"bench_scale_{tokens}_{events}_{digest}"
    data = ScaleData(url=with_schema(url, schema), schema=schema, tokens=tokens, events=events)
    # one builder at a time: a second caller waits, then finds the data set made
    with psycopg.connect(url, autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(hashtext(%s))", (schema,))
        if rebuild or _recorded(url, schema) != wanted:
            _build(data, url, wanted)
    return data


def _build(data: ScaleData, url: str, wanted: dict[str, object]) -> None:
    schema, tokens, events = data.schema, data.tokens, data.events
    log(f"building the scale data set in schema {schema}: {tokens:,} tokens, "
        f"{events:,} audit events (kept for later runs)")
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.execute(f'CREATE SCHEMA "{schema}"')
    core = build_core(data.settings())
    try:
        core.db.upgrade()
        bootstrap(core)
    finally:
        core.close()
    with psycopg.connect(data.url) as connection:
        account_id, admin_id = _account_and_admin(connection)
        people = _people(connection, account_id, admin_id)
        _copy_tokens(connection, account_id, admin_id, tokens)
        _copy_events(connection, account_id, people, events)
        connection.commit()
    # VACUUM too, not only ANALYZE: it marks the pages all-visible, so index-only scans read
    # no table pages, as on a database autovacuum looks after (it may be off, as it is here)
    log("vacuuming and analyzing")
    with psycopg.connect(data.url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute(
            "INSERT INTO server_info (key, value) VALUES (%s, %s)",
            (MARKER, json.dumps(wanted, sort_keys=True)))
    log(f"built in {time.monotonic() - started:.0f} s")


def _parameters(tokens: int, events: int) -> dict[str, object]:
    core = build_core(Settings(database_url="sqlite://", secret_key=SECRET_KEY))
    try:
        head = core.db.head_revision()
    finally:
        core.close()
    return {"format": FORMAT, "tokens": tokens, "events": events, "head": head}


def clean(url: str, keep: str) -> list[str]:
    """Drop every other data set's schema (older migrations, other counts)."""
    with psycopg.connect(url, autocommit=True) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_scale\\_%%' "
            "AND nspname <> %s", (keep,))]
        for name in names:
            connection.execute(f'DROP SCHEMA "{name}" CASCADE')
    return names


def _recorded(url: str, schema: str) -> dict[str, object] | None:
    with psycopg.connect(url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name = 'server_info'", (schema,)).fetchone()
        if exists is None:
            return None
        row = connection.execute(
            f'SELECT value FROM "{schema}".server_info WHERE key = %s',  # noqa: S608 - our own name
            (MARKER,)).fetchone()
    return json.loads(row[0]) if row else None


def _account_and_admin(connection: psycopg.Connection) -> tuple[int, int]:
    row = connection.execute(
        "SELECT a.id, u.id FROM accounts a JOIN users u ON u.account_id = a.id "
        "WHERE a.subdomain = %s AND u.email = %s", (SUBDOMAIN, ADMIN_EMAIL)).fetchone()
    if row is None:
        raise RuntimeError("the bootstrap made no account and admin")
    return int(row[0]), int(row[1])


def _people(connection: psycopg.Connection, account_id: int, admin_id: int) -> list[int]:
    """The admin and ``PEOPLE - 1`` agents to act in the audit log."""
    now = datetime.now(UTC)
    ids = [admin_id]
    for number in range(1, PEOPLE):
        row = connection.execute(
            "INSERT INTO users (account_id, email, name, role, verified, suspended, "
            "created_at, updated_at) VALUES (%s, %s, %s, 'agent', true, false, %s, %s) "
            "RETURNING id",
            (account_id, f"agent{number}@example.com", f"Agent {number}", now, now)).fetchone()
        assert row is not None
        ids.append(int(row[0]))
    return ids


def _copy_tokens(connection: psycopg.Connection, account_id: int, admin_id: int,
                 count: int) -> None:
    hasher = TokenHasher(SECRET_KEY.encode())
    created = datetime.now(UTC) - timedelta(days=EVENT_DAYS)
    columns = ("account_id, description, active, secret_hash, display, created_at, "
               "created_by_id, updated_at, kind, active_on")
    with connection.cursor().copy(f"COPY api_tokens ({columns}) FROM STDIN") as copy:
        for index in range(count):
            secret = token_secret(index)
            at = created + timedelta(seconds=index)
            copy.write_row((account_id, f"scale {index}", True, hasher.hash(secret),
                            truncate(secret), at, admin_id, at, "manual", at.date()))
            if (index + 1) % CHUNK == 0:
                log(f"  tokens: {index + 1:,}")


def _weighted(pairs: tuple[tuple[str, int], ...], rng: random.Random, count: int) -> Iterator[str]:
    names = [name for name, _ in pairs]
    weights = [weight for _, weight in pairs]
    while count > 0:
        batch = min(count, CHUNK)
        yield from rng.choices(names, weights, k=batch)
        count -= batch


def _copy_events(connection: psycopg.Connection, account_id: int, people: list[int],
                 count: int) -> None:
    """Events in time order over the last year, ids rising with time as in a real log."""
    rng = random.Random(1)  # the same data set on every build
    start = datetime.now(UTC) - timedelta(days=EVENT_DAYS)
    step = timedelta(days=EVENT_DAYS) / max(count, 1)
    token_ids = [int(row[0]) for row in connection.execute(
        "SELECT id FROM api_tokens ORDER BY id LIMIT 10000")] or [1]
    columns = ("account_id, created_at, actor_id, actor_label, action, source_type, "
               "source_id, source_label, ip_address, user_agent, via, credential, changes, "
               "change_description")
    actions = _weighted(EVENT_ACTIONS, rng, count)
    sources = _weighted(EVENT_SOURCES, rng, count)
    with connection.cursor().copy(f"COPY audit_events ({columns}) FROM STDIN") as copy:
        for index in range(count):
            actor = rng.choice(people)
            action, source = next(actions), next(sources)
            source_id = rng.choice(token_ids) if source == SourceType.API_TOKEN \
                else rng.choice(people)
            copy.write_row((
                account_id, start + step * index, actor, f"person {actor}", action, source,
                source_id, f"{source} {source_id}", f"10.0.{index % 200}.{index % 250}",
                "bench", "api", "password", "{}", ""))
            if (index + 1) % CHUNK == 0:
                log(f"  events: {index + 1:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server and database")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="build even if already there")
    parser.add_argument("--clean", action="store_true",
                        help="drop the schemas of every other scale data set")
    options = parser.parse_args()
    data = ensure(options.url, tokens=options.tokens, events=options.events,
                  rebuild=options.rebuild)
    if options.clean:
        for name in clean(options.url, data.schema):
            print(f"dropped schema {name}")
    print(f"schema {data.schema}: {data.tokens:,} tokens, {data.events:,} audit events")
    print(f"TOKENRY_DATABASE_URL={data.url}")


if __name__ == "__main__":
    main()
