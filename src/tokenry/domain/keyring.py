"""The server's keyring: every server secret tokenry knows, one of them current.

Everything new (token hashes, seals, session digests) is made with the current key; every key
still verifies and opens what it made, so the secret rotates without re-issuing anything.

A key's id is the first 16 hex digits of its fingerprint (an HMAC of a fixed label under the
key), so it names the key without revealing it, and the same secret has the same id on every
node. A stored row whose ``key_id`` is NULL was made before key ids existed: it belongs to the
*original* key, the one whose fingerprint the database recorded at its first start.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

MIN_SECRET_BYTES = 32
KEY_ID_LENGTH = 16


def fingerprint(secret: bytes) -> str:
    """Identifies a key without revealing it."""
    return hmac.new(secret, b"tokenry server secret fingerprint", hashlib.sha256).hexdigest()


def key_id_of_fingerprint(value: str) -> str:
    return value[:KEY_ID_LENGTH]


def key_id(secret: bytes) -> str:
    return key_id_of_fingerprint(fingerprint(secret))


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    secret: bytes = field(repr=False)
    created_at: datetime | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.secret)

    @classmethod
    def of(cls, secret: bytes, created_at: datetime | None = None) -> Key:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError("a server secret must be at least 32 bytes")
        return cls(id=key_id(secret), secret=secret, created_at=created_at)


@dataclass(frozen=True, slots=True)
class Keyring:
    """The keys, current first. Immutable: a rotation builds a new keyring."""

    keys: tuple[Key, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a keyring needs at least one key")
        ids = [key.id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise ValueError("a keyring holds each key once")

    @property
    def current(self) -> Key:
        return self.keys[0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.id for key in self.keys)

    def get(self, kid: str) -> Key | None:
        for key in self.keys:
            if key.id == kid:
                return key
        return None

    def secrets(self) -> tuple[bytes, ...]:
        return tuple(key.secret for key in self.keys)

    def opening_order(self, kid: str | None) -> tuple[Key, ...]:
        """The keys to try on something made by ``kid``: that one key when known; every key
        (current first) for a NULL id (made before key ids, by the original key); none for
        an id this keyring does not hold."""
        if kid is None:
            return self.keys
        key = self.get(kid)
        return (key,) if key is not None else ()

    def with_new_current(self, key: Key) -> Keyring:
        return Keyring((key, *self.keys))

    def with_staged(self, key: Key) -> Keyring:
        """``key`` added for verification only: every node can learn it before any uses it."""
        return Keyring((*self.keys, key))

    def with_current(self, kid: str) -> Keyring:
        key = self.get(kid)
        if key is None:
            raise KeyError(kid)
        return Keyring((key, *(other for other in self.keys if other.id != kid)))

    def without(self, kid: str) -> Keyring:
        return Keyring(tuple(key for key in self.keys if key.id != kid))

    def __repr__(self) -> str:
        return f"Keyring(ids={self.ids!r})"
