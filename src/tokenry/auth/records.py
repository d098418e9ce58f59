"""Immutable snapshots the verifier caches: small, hashable, free of ORM state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: int
    subdomain: str
    token_access: bool
    password_access: bool
    rate_limit: int = 6000  # authenticated API requests per minute
    allowed_scopes: tuple[str, ...] | None = None  # the ceiling of every token; None: none


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    account_id: int
    email: str
    name: str
    role: str
    verified: bool
    suspended: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    account_id: int
    active: bool
    expires_at: datetime | None
    user_id: int | None
    secret_hash: str
    scopes: tuple[str, ...] | None = None  # None: unscoped, the user's full power


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request acts as, once authenticated."""

    account: AccountRecord
    user: UserRecord
    token_id: int | None  # None when a password was used
    expires_at: datetime | None = None  # the token's own expiry: a cached hit honours it
    token_bound: bool = False  # the token works only for this user, so it proves who calls
    # What the credential may reach (domain.scopes): the token's scopes within the account's
    # ceiling; None when neither limits it (a password, an unscoped token).
    scopes: tuple[str, ...] | None = None
    oauth_token_id: int | None = None  # set when an OAuth access token was used


@dataclass(frozen=True, slots=True)
class AccessTokenRecord:
    """An OAuth access token, as the verifier caches it (None when revoked or its client is
    switched off); ``expires_at`` is the earlier of its own and its client's."""

    id: int
    account_id: int
    client_id: int
    user_id: int
    scopes: tuple[str, ...]
    expires_at: datetime
