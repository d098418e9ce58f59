"""Turns a credential into an :class:`Identity`, or raises :class:`Unauthenticated`.

A recently verified token costs one SHA-256 of the header and one dictionary look-up. Otherwise
the token is hashed (HMAC with the server secret) and found by one indexed query; concurrent
misses for the same header (or the same account, token or user) share one query
(:meth:`TTLCache.load`). Near the end of a header's entry one request verifies it again from
the database (a *refresh*, which reads nothing from the cache) while the others are still
served the old answer, so a hot token never falls out of the cache under load.

A commit on this node that changes who can authenticate clears the cache here at once; other
nodes hear of it through the :class:`~tokenry.auth.invalidation.InvalidationWatcher`. How long
an entry may live therefore depends on that watcher: see :mod:`tokenry.core`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from tokenry.auth.cache import DUE, MISSING, TTLCache
from tokenry.auth.credentials import (
    Credential,
    PasswordCredential,
    TokenCredential,
    parse_authorization,
)
from tokenry.auth.lookups import Lookups
from tokenry.auth.passwords import verify_password
from tokenry.auth.records import (
    AccessTokenRecord,
    AccountRecord,
    Identity,
    TokenRecord,
    UserRecord,
)
from tokenry.domain.errors import NotFound, Unauthenticated
from tokenry.domain.scopes import intersect
from tokenry.domain.token_format import TokenHasher
from tokenry.domain.tokens import is_usable
from tokenry.domain.users import may_sign_in

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Presented:
    """What a ``cached_only`` pass worked out from a token header before it missed: handed
    back to :meth:`Verifier.authenticate_header` once the missing entry is read, so that the
    pass after it does not parse and hash the header again. It lives for one request."""

    key: bytes  # the header's cache key
    credential: TokenCredential
    secret_hash: str | None  # the API token's hash under the current key, once computed
    # The API token as read from the database for this request, and the cache generation
    # taken before that read. The token is kept only inside the header's entry (one cache
    # entry per miss, not two), and that entry only if no clear came in between.
    token: TokenRecord | None = None
    generation: int | None = None


class NeedsLookup(Exception):
    """Raised in ``cached_only`` mode when the answer needs the database. ``key`` is the
    cache entry that was missing (None for a password, which is never cached, or a
    refresh); ``refresh`` says this caller was elected to verify a cached header again: pass
    it on to :meth:`Verifier.authenticate_header`. ``presented`` (for a token header) goes
    back to it too, after the entry has been read."""

    def __init__(self, key: tuple[object, ...] | None = None, *,
                 refresh: bool = False) -> None:
        super().__init__()
        self.key = key
        self.refresh = refresh
        self.presented: Presented | None = None


class Verifier:
    def __init__(self, hasher: TokenHasher, lookups: Lookups, cache: TTLCache,
                 clock: Callable[[], datetime], *, access_prefix: str | None = None,
                 timestamp: Callable[[], float] | None = None) -> None:
        self._hasher = hasher
        self._lookups = lookups
        self._cache = cache
        self._clock = clock
        # ``clock`` as seconds since the epoch. The server passes time.time: then ``clock`` is
        # real time, as the cache's own clock is, and an expiring credential's cache entry
        # simply ends at its deadline (no clock read of its own per hit: that had cost an
        # OAuth access token's hit 1.2x an API token's). Any other clock (tests move theirs)
        # keeps the deadline beside the entry and compares it on every hit.
        self._timestamp = timestamp or (lambda: clock().timestamp())
        self._real_time = timestamp is not None
        # OAuth access tokens start with their own prefix (``tkryoa_``): one string test
        # sends them to their own table, on the same path as API tokens
        self._access_prefix = access_prefix

    def _cached(self, key: tuple[object, ...], load: Callable[[], T], cached_only: bool,
                fresh: bool = False) -> T:
        """The cached answer, else one load shared by concurrent callers. ``fresh`` (a
        refresh) skips the cached answer, so a refreshed entry is as new as its query."""
        if not fresh:
            value = self._cache.get(key)
            if value is not MISSING:
                return value  # type: ignore[no-any-return]
        if cached_only:
            raise NeedsLookup(key)
        return self._cache.load(key, load)

    @property
    def generation(self) -> int:
        """The cache's generation: read it before a read made outside the verifier."""
        return self._cache.generation

    def remember(self, key: tuple[object, ...], value: object, generation: int) -> None:
        """Keep what the database said for ``key`` (a :class:`NeedsLookup`'s), read by the
        caller (on the event loop) after it took ``generation``: an identity change since
        then (a clear) means the read may be stale, and nothing is kept."""
        self._cache.put(key, value, generation=generation)

    def account(self, subdomain: str, *, cached_only: bool = False,
                fresh: bool = False) -> AccountRecord:
        account = self._cached(("account", subdomain), lambda: self._lookups.account(subdomain),
                               cached_only, fresh)
        if account is None:
            raise NotFound(f"There is no account {subdomain!r} on this server.")
        return account

    def authenticate_header(self, subdomain: str, header: str | None, *,
                            cached_only: bool = False, refresh: bool = False,
                            presented: Presented | None = None) -> Identity:
        """Verify a raw ``Authorization`` header: the hot path.

        A token that verified recently is found by one SHA-256 of the header and one
        dictionary look-up. The key is a digest, so no secret stays in memory; the entry is
        dropped with the rest of the cache on any identity change, and it still honours the
        token's own expiry. Anything else takes the full path below, once for all concurrent
        callers with the same header. ``refresh`` (from :class:`NeedsLookup`) verifies the
        header again from the database whatever the cache holds. ``presented`` is a
        :class:`NeedsLookup`'s, for the same subdomain and header.
        """
        if presented is not None and cached_only:
            return self._verify_presented(subdomain, presented)
        if not header:
            raise Unauthenticated("missing Authorization header")
        key = hashlib.sha256(f"{subdomain}\n{header}".encode()).digest()
        if not refresh:
            hit = self._cache.lookup(key)
            if hit is DUE:
                if cached_only:
                    raise NeedsLookup(refresh=True)
                refresh = True
            elif hit is not MISSING:
                identity, deadline = hit
                if deadline is None or deadline > self._timestamp():
                    return identity  # type: ignore[no-any-return]
        credential = parse_authorization(header)
        if credential is None:
            raise Unauthenticated("malformed Authorization header")
        if isinstance(credential, PasswordCredential):  # checked every time, by design
            return self.authenticate(subdomain, credential, cached_only=cached_only)
        if cached_only:
            if refresh:
                raise NeedsLookup(refresh=True)
            # the account, token and user may all be known here already (or the token be
            # known to be unknown): no thread hop for those
            return self._verify_presented(subdomain, Presented(key, credential, None))
        fresh = refresh
        try:
            kept: tuple[Identity, float | None] = self._cache.load(
                key, lambda: self._entry(self.authenticate(subdomain, credential, fresh=fresh)),
                within=self._within)
        except Unauthenticated:
            if refresh:  # what the others are still being served is wrong now
                self._cache.discard(key)
            raise
        return kept[0]

    def _verify_presented(self, subdomain: str, presented: Presented) -> Identity:
        """A token header from the cache alone: its identity, kept under the header's key,
        or :class:`NeedsLookup` carrying ``presented`` (with the token's hash, once known)."""
        try:
            account = self.account(subdomain, cached_only=True)
            identity = self._verify_token(presented.credential, account, True, False,
                                          presented.secret_hash, presented.token)
        except NeedsLookup as needed:
            found = needed.key
            needed.presented = presented if found is None or found[0] != "token" \
                else replace(presented, secret_hash=str(found[1]))
            raise
        entry = self._entry(identity)
        self._cache.put(presented.key, entry, within=self._within(entry),
                        generation=presented.generation)
        return identity

    def _entry(self, identity: Identity) -> tuple[Identity, float | None]:
        """What the header's entry holds: the identity, and its deadline when the cache's
        clock cannot end the entry with the credential (a test's moved clock)."""
        expires = identity.expires_at
        if expires is None or self._real_time:
            return identity, None
        return identity, expires.timestamp()

    def _within(self, entry: tuple[Identity, float | None]) -> float | None:
        expires = entry[0].expires_at
        return None if expires is None else expires.timestamp() - self._timestamp()

    def authenticate(self, subdomain: str, credential: Credential, *,
                     cached_only: bool = False, fresh: bool = False) -> Identity:
        """Resolve the account, then verify the credential against it.

        With ``cached_only`` it raises :class:`NeedsLookup` instead of touching the database,
        so an async caller can answer hits inline and send misses to a thread. With ``fresh``
        every record comes from the database (and replaces what the cache held).
        """
        account = self.account(subdomain, cached_only=cached_only, fresh=fresh)
        if isinstance(credential, PasswordCredential):
            if cached_only:
                raise NeedsLookup
            return self._verify_password(credential, account)
        return self._verify_token(credential, account, cached_only, fresh)

    def _verify_token(self, credential: TokenCredential, account: AccountRecord,
                      cached_only: bool, fresh: bool, secret_hash: str | None = None,
                      known: TokenRecord | None = None) -> Identity:
        if self._access_prefix and credential.secret.startswith(self._access_prefix):
            return self._verify_access_token(credential, account, cached_only, fresh)
        if not account.token_access:
            raise Unauthenticated("token access is off for this account")
        if secret_hash is None:
            secret_hash = self._hasher.hash(credential.secret)
        token = known if known is not None else self._cached(
            ("token", secret_hash),
            lambda: self._by_any_key(self._lookups.token, credential.secret), cached_only,
            fresh)
        if token is None:  # looked up by its keyed hash: equal by construction when found
            raise Unauthenticated("unknown token")
        if token.account_id != account.id:
            raise Unauthenticated("token belongs to another account")
        if not is_usable(active=token.active, expires_at=token.expires_at, now=self._clock()):
            raise Unauthenticated("token is deactivated or expired")
        user = self._token_user(token, credential.email, account.id, cached_only, fresh)
        if user is None or not may_sign_in(verified=user.verified, suspended=user.suspended):
            raise Unauthenticated("no usable user for this token")
        return Identity(account=account, user=user, token_id=token.id,
                        expires_at=token.expires_at, token_bound=token.user_id is not None,
                        scopes=intersect(token.scopes, account.allowed_scopes))

    def _verify_access_token(self, credential: TokenCredential, account: AccountRecord,
                             cached_only: bool, fresh: bool) -> Identity:
        """An OAuth access token: bound to its user, expiring, scoped. Zendesk's
        ``token_access`` switch governs API tokens only, so it does not apply here."""
        access_hash = self._hasher.hash(credential.secret)
        token: AccessTokenRecord | None = self._cached(
            ("access", access_hash),
            lambda: self._by_any_key(self._lookups.access_token, credential.secret),
            cached_only, fresh)
        if token is None or token.account_id != account.id:
            raise Unauthenticated("unknown or revoked access token")
        if token.expires_at <= self._clock():
            raise Unauthenticated("access token expired")
        account_id, user_id = account.id, token.user_id
        user: UserRecord | None = self._cached(
            ("user-id", account_id, user_id),
            lambda: self._lookups.user_by_id(account_id, user_id), cached_only, fresh)
        if user is None or not may_sign_in(verified=user.verified, suspended=user.suspended) \
                or (credential.email is not None and credential.email != user.email):
            raise Unauthenticated("no usable user for this access token")
        return Identity(account=account, user=user, token_id=None,
                        expires_at=token.expires_at, token_bound=True,
                        scopes=intersect(token.scopes, account.allowed_scopes),
                        oauth_token_id=token.id)

    def _by_any_key(self, find: Callable[[tuple[str, ...]], R | None], secret: str) -> R | None:
        """Find a stored hash made by any key of the keyring, in one query. After a miss, a
        keyring rotated in by another process (the CLI, another node) is loaded and the
        search repeated once, so its new tokens verify here at once, without a restart."""
        found = find(self._hasher.candidates(secret))
        if found is None and self._hasher.refresh():
            found = find(self._hasher.candidates(secret))
        return found

    def _token_user(self, token: TokenRecord, email: str | None, account_id: int,
                    cached_only: bool, fresh: bool) -> UserRecord | None:
        if email is None:  # Bearer: only a token bound to a user says who is calling
            if token.user_id is None:
                return None
            bound_id = token.user_id
            return self._cached(("user-id", account_id, bound_id),
                                lambda: self._lookups.user_by_id(account_id, bound_id),
                                cached_only, fresh)
        user: UserRecord | None = self._cached(
            ("user", account_id, email), lambda: self._lookups.user(account_id, email),
            cached_only, fresh)
        if user is not None and token.user_id is not None and user.id != token.user_id:
            return None  # a bound token works only with its own user's email
        return user

    def _verify_password(self, credential: PasswordCredential,
                         account: AccountRecord) -> Identity:
        if not account.password_access:
            raise Unauthenticated("password access is off for this account")
        stored = self._lookups.password_hash(account.id, credential.email)
        if not verify_password(stored, credential.password):
            raise Unauthenticated("wrong email or password")
        user = self._lookups.user(account.id, credential.email)
        if user is None or not may_sign_in(verified=user.verified, suspended=user.suspended):
            raise Unauthenticated("user cannot sign in")
        return Identity(account=account, user=user, token_id=None)
