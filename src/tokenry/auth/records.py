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


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request acts as, once authenticated."""

    account: AccountRecord
    user: UserRecord
    token_id: int | None  # None when a password was used
    expires_at: datetime | None = None  # the token's own expiry: a cached hit honours it
    token_bound: bool = False  # the token works only for this user, so it proves who calls
