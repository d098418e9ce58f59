"""Admin Center sessions and invitation links: their secrets, digests and lifetimes.

A browser holds a random secret; the database holds only its keyed digest, so a copy of the
database signs nobody in. The CSRF token of a form is derived from the session's digest, so
it needs no storage and dies with the session.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tokenry.domain.keyring import Keyring

SECRET_BYTES = 32
# last_seen_at is written at most this often: a page view should not always be a write
TOUCH_EVERY = timedelta(minutes=1)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(server_key: bytes, purpose: str, secret: str) -> str:
    """The keyed digest stored in place of a session secret or an invitation link."""
    return hmac.digest(server_key, f"{purpose}:{secret}".encode(), "sha256").hex()


def digests(keyring: Keyring, purpose: str, secret: str) -> tuple[str, ...]:
    """The digest under every key, current first: a stored digest is one of these."""
    return tuple(digest(key, purpose, secret) for key in keyring.secrets())


def form_token(server_key: bytes, purpose: str, bound_to: str) -> str:
    """A form's anti-forgery token, bound to what the form acts for: the session's digest,
    the sign-in form's cookie, or an invitation link."""
    return digest(server_key, f"form-{purpose}", bound_to)


def form_token_matches(keyring: Keyring, purpose: str, bound_to: str, given: str) -> bool:
    """Made under any key of the keyring: a form rendered before a rotation still posts."""
    return any(hmac.compare_digest(form_token(key, purpose, bound_to).encode(), given.encode())
               for key in keyring.secrets())


def csrf_token(server_key: bytes, secret_hash: str) -> str:
    return form_token(server_key, "session", secret_hash)


def csrf_matches(keyring: Keyring, secret_hash: str, given: str) -> bool:
    return form_token_matches(keyring, "session", secret_hash, given)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta

    def ends_at(self, created_at: datetime, last_seen_at: datetime) -> datetime:
        return min(created_at + self.lifetime, last_seen_at + self.idle)

    def is_live(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        return now < self.ends_at(created_at, last_seen_at)


# Changing any of these ends the user's sessions at once: they sign in again as who they now are.
ENDS_SESSIONS = frozenset({"role", "provisioner", "suspended", "verified", "password"})


def ends_sessions(changed: set[str] | frozenset[str]) -> bool:
    return not ENDS_SESSIONS.isdisjoint(changed)
