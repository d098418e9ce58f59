"""The database side of verification: one indexed query per cache miss.

The queries are built once, at import, with no ORM session around them. From a worker
thread they run on ``Database.lookup_engine`` (on PostgreSQL one round trip on an
autocommit connection); from the event loop, ``async_loader`` runs the same statements,
compiled once for psycopg, on ``Database.lookup_pool`` as prepared statements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ClauseElement

from tokenry.auth.records import AccessTokenRecord, AccountRecord, TokenRecord, UserRecord
from tokenry.domain.settings import AccountSettings
from tokenry.storage.database import Database
from tokenry.storage.models import (
    Account,
    AccountSetting,
    ApiToken,
    OAuthClient,
    OAuthToken,
    User,
)

# A token is found by its hash under the current key (``= :secret_hash``, the one-key case)
# or under any key of the keyring (``IN``, after a rotation): one indexed query either way.
_TOKEN = select(ApiToken.id, ApiToken.account_id, ApiToken.active, ApiToken.expires_at,
                ApiToken.user_id, ApiToken.secret_hash, ApiToken.scopes)
TOKEN = _TOKEN.where(ApiToken.secret_hash == bindparam("secret_hash"))
TOKEN_ANY_KEY = _TOKEN.where(ApiToken.secret_hash.in_(bindparam("hashes", expanding=True)))
_ACCESS_TOKEN = (
    select(OAuthToken.id, OAuthToken.account_id, OAuthToken.client_id, OAuthToken.user_id,
           OAuthToken.scopes, OAuthToken.expires_at,
           OAuthClient.expires_at.label("client_expires_at"))
    .join(OAuthClient, OAuthClient.id == OAuthToken.client_id)
    .where(OAuthToken.revoked_at.is_(None), OAuthClient.active.is_(True)))
# Several tokens in one query, for the event loop's batches: one statement text (an array
# parameter), so the server prepares it once.
TOKENS = _TOKEN.where(ApiToken.secret_hash == any_(bindparam("hashes", type_=ARRAY(String))))
ACCESS_TOKEN = _ACCESS_TOKEN.where(OAuthToken.access_hash == bindparam("access_hash"))
ACCESS_TOKEN_ANY_KEY = _ACCESS_TOKEN.where(
    OAuthToken.access_hash.in_(bindparam("hashes", expanding=True)))
_USER_COLUMNS = (User.id, User.account_id, User.email, User.name, User.role, User.verified,
                 User.suspended, User.created_at, User.updated_at)
USER_BY_EMAIL = select(*_USER_COLUMNS).where(User.account_id == bindparam("account_id"),
                                             User.email == bindparam("email"))
USER_BY_ID = select(*_USER_COLUMNS).where(User.account_id == bindparam("account_id"),
                                          User.id == bindparam("user_id"))
# An account and its stored settings in one query (one row per setting; an account with no
# settings yet is one row of NULLs beside it).
ACCOUNT = (select(Account.id, Account.subdomain, AccountSetting.key, AccountSetting.value)
           .outerjoin(AccountSetting, AccountSetting.account_id == Account.id)
           .where(Account.subdomain == bindparam("subdomain")))
PASSWORD_HASH = select(User.password_hash).where(User.account_id == bindparam("account_id"),
                                                 User.email == bindparam("email"))


def _sql(statement: ClauseElement) -> str:
    """The statement as psycopg runs it (``%(name)s`` parameters), for the async pool."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # psycopg's paramstyle
    return str(statement.compile(dialect=dialect))


ASYNC_SQL = {"account": _sql(ACCOUNT), "token": _sql(TOKEN), "access": _sql(ACCESS_TOKEN),
             "user": _sql(USER_BY_EMAIL), "user-id": _sql(USER_BY_ID)}
TOKENS_SQL = _sql(TOKENS)


def _utc(value: datetime | None) -> datetime | None:
    """As UTCDateTime reads it (psycopg alone gives the session's time zone)."""
    return None if value is None else value.astimezone(UTC)


def _account(rows: list[Any]) -> AccountRecord | None:
    if not rows:
        return None
    settings = AccountSettings.from_stored({key: value for *_, key, value in rows
                                            if key is not None})
    account_id, subdomain, *_ = rows[0]
    return AccountRecord(account_id, subdomain, settings.token_access, settings.password_access,
                         settings.rate_limit_per_minute, settings.scope_ceiling)


def _token(row: Any) -> TokenRecord | None:
    if row is None:
        return None
    token_id, account_id, active, expires_at, user_id, secret_hash, scopes = row
    return TokenRecord(token_id, account_id, active, _utc(expires_at), user_id, secret_hash,
                       tuple(scopes) if scopes is not None else None)


def _access_token(row: Any) -> AccessTokenRecord | None:
    if row is None:
        return None
    token_id, account_id, client_id, user_id, scopes, expires_at, client_expires_at = row
    ends = _utc(expires_at) if client_expires_at is None \
        else min(_utc(expires_at), _utc(client_expires_at))  # type: ignore[type-var]
    assert ends is not None
    return AccessTokenRecord(token_id, account_id, client_id, user_id, tuple(scopes), ends)


def _user(row: Any) -> UserRecord | None:
    if row is None:
        return None
    user_id, account_id, email, name, role, verified, suspended, created_at, updated_at = row
    return UserRecord(user_id, account_id, email, name, role, verified, suspended,
                      _utc(created_at), _utc(updated_at))  # type: ignore[arg-type]


class Lookups:
    def __init__(self, db: Database) -> None:
        self._db = db

    def account(self, subdomain: str) -> AccountRecord | None:
        return _account(self._db.lookup(ACCOUNT, {"subdomain": subdomain}))

    def token(self, secret_hash: str | tuple[str, ...]) -> TokenRecord | None:
        """The API token whose stored hash is ``secret_hash``, or any one of several (its
        hash under each key of the keyring): one indexed query either way."""
        if isinstance(secret_hash, tuple) and len(secret_hash) > 1:
            return _token(self._db.lookup_one(TOKEN_ANY_KEY, {"hashes": list(secret_hash)}))
        one = secret_hash if isinstance(secret_hash, str) else secret_hash[0]
        return _token(self._db.lookup_one(TOKEN, {"secret_hash": one}))

    def access_token(self, access_hash: str | tuple[str, ...]) -> AccessTokenRecord | None:
        """A live-or-expired OAuth access token; a revoked one, or one of a switched-off
        client, is as absent as none. Its expiry is its client's removal date when that
        comes first, so a cached token stops at that moment with no extra check per hit."""
        if isinstance(access_hash, tuple) and len(access_hash) > 1:
            return _access_token(self._db.lookup_one(ACCESS_TOKEN_ANY_KEY,
                                                     {"hashes": list(access_hash)}))
        one = access_hash if isinstance(access_hash, str) else access_hash[0]
        return _access_token(self._db.lookup_one(ACCESS_TOKEN, {"access_hash": one}))

    def user(self, account_id: int, email: str) -> UserRecord | None:
        return _user(self._db.lookup_one(USER_BY_EMAIL,
                                         {"account_id": account_id, "email": email}))

    def user_by_id(self, account_id: int, user_id: int) -> UserRecord | None:
        return _user(self._db.lookup_one(USER_BY_ID,
                                         {"account_id": account_id, "user_id": user_id}))

    def password_hash(self, account_id: int, email: str) -> str | None:
        row = self._db.lookup_one(PASSWORD_HASH, {"account_id": account_id, "email": email})
        return None if row is None or row[0] is None else str(row[0])

    @property
    def on_event_loop(self) -> bool:
        """Whether reads can be made on the event loop (PostgreSQL) at all."""
        return self._db.lookup_pool is not None

    async def tokens(self, hashes: list[str]) -> dict[str, TokenRecord]:
        """The API tokens stored under these hashes, read on the event loop in one query
        (PostgreSQL only: see :attr:`Database.lookup_pool`)."""
        pool = self._db.lookup_pool
        assert pool is not None
        found = (_token(row) for row in await pool.fetch(TOKENS_SQL, {"hashes": hashes}))
        return {token.secret_hash: token for token in found if token is not None}

    def async_loader(self, key: tuple[Any, ...]) -> Callable[[], Awaitable[object]] | None:
        """How to load one of the verifier's cache keys on the event loop, or None when it
        has no such way (SQLite)."""
        pool = self._db.lookup_pool
        kind = key[0]
        if pool is None or kind not in ASYNC_SQL:
            return None
        sql = ASYNC_SQL[kind]
        if kind == "account":
            subdomain = key[1]

            async def load_account() -> object:
                return _account(await pool.fetch(sql, {"subdomain": subdomain}))

            return load_account
        if kind == "token":
            params: dict[str, Any] = {"secret_hash": key[1]}
            build: Callable[[Any], object] = _token
        elif kind == "access":
            params, build = {"access_hash": key[1]}, _access_token
        elif kind == "user":
            params, build = {"account_id": key[1], "email": key[2]}, _user
        else:
            params, build = {"account_id": key[1], "user_id": key[2]}, _user

        async def load() -> object:
            return build(await pool.fetch_one(sql, params))

        return load
