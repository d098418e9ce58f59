"""The token format and how a token is hashed.

A token reads ``<prefix>_<body><checksum>``:

* ``body`` is 32 base62 characters from ``secrets`` (about 190 bits of randomness);
* ``checksum`` is the CRC32 of ``<prefix>_<body>`` written as 6 base62 characters, so a
  scanner can tell a real tokenry token from random text without asking the server.

Only ``HMAC-SHA256(server secret, token)`` is ever stored, beside the id of the key
(domain/keyring.py) that made it. The token has enough entropy
that a slow password hash buys nothing, and one HMAC keeps verification fast.
"""

from __future__ import annotations

import hmac
import re
import secrets
import zlib
from dataclasses import dataclass
from typing import Protocol

from tokenry.domain.keyring import Key, Keyring, fingerprint

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
SHOWN_BODY_CHARS = 4
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,15}$")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))


def checksum(text: str) -> str:
    """CRC32 of ``text`` as exactly six base62 characters (62**6 > 2**32)."""
    return _base62(zlib.crc32(text.encode()), CHECKSUM_LENGTH)


def validate_prefix(prefix: str) -> str:
    if not PREFIX_PATTERN.match(prefix):
        raise ValueError(
            "token prefix must be 2-16 characters: a lower-case letter, then letters or digits"
        )
    return prefix


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly generated token. ``secret`` must be shown once and then forgotten."""

    secret: str
    display: str

    def __repr__(self) -> str:  # never let the secret reach a log through repr()
        return f"NewToken(display={self.display!r})"


def generate(prefix: str) -> NewToken:
    body = "".join(secrets.choice(BASE62) for _ in range(BODY_LENGTH))
    head = f"{validate_prefix(prefix)}_{body}"
    secret = head + checksum(head)
    return NewToken(secret=secret, display=truncate(secret))


def truncate(secret: str) -> str:
    """The only form of a token shown after creation: prefix, four characters, an ellipsis."""
    prefix, _, rest = secret.partition("_")
    return f"{prefix}_{rest[:SHOWN_BODY_CHARS]}{'*' * 8}"


def looks_like_token(text: str) -> bool:
    """True when ``text`` has a tokenry token's shape and a valid checksum (offline check)."""
    prefix, sep, rest = text.partition("_")
    if not sep or not PREFIX_PATTERN.match(prefix):
        return False
    if len(rest) != BODY_LENGTH + CHECKSUM_LENGTH or not all(c in BASE62 for c in rest):
        return False
    head, tail = text[:-CHECKSUM_LENGTH], text[-CHECKSUM_LENGTH:]
    return hmac.compare_digest(checksum(head), tail)


class KeyringProvider(Protocol):
    """Where the hasher reads the keyring: a fixed one, or a file reloaded when it changes."""

    def keyring(self) -> Keyring: ...

    def refresh(self) -> bool: ...


class _FixedKeyring:
    __slots__ = ("_keyring",)

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def keyring(self) -> Keyring:
        return self._keyring

    def refresh(self) -> bool:
        return False


class TokenHasher:
    """Keyed hashing of token secrets with the server's keyring (the pepper).

    New hashes are made with the current key (:meth:`stamp` also says which key); a stored
    hash is found by :meth:`candidates`, the token's hash under every key, current first.
    """

    __slots__ = ("_source",)

    def __init__(self, key: bytes | Keyring | KeyringProvider) -> None:
        if isinstance(key, bytes):
            if len(key) < 32:
                raise ValueError("the server secret must be at least 32 bytes")
            key = Keyring((Key.of(key),))
        self._source: KeyringProvider = _FixedKeyring(key) if isinstance(key, Keyring) else key

    def __repr__(self) -> str:
        return "TokenHasher(<secret>)"

    @property
    def keyring(self) -> Keyring:
        return self._source.keyring()

    def hash(self, secret: str) -> str:
        """The hash under the current key."""
        return hmac.digest(self._source.keyring().current.secret, secret.encode(),
                           "sha256").hex()

    def stamp(self, secret: str) -> tuple[str, str]:
        """The hash under the current key, and that key's id (to store beside it)."""
        key = self._source.keyring().current
        return hmac.digest(key.secret, secret.encode(), "sha256").hex(), key.id

    def stamp_pair(self, first: str, second: str | None) -> tuple[str, str | None, str]:
        """Two hashes under the same current key (an access and a refresh token), and its id."""
        key = self._source.keyring().current
        return (hmac.digest(key.secret, first.encode(), "sha256").hex(),
                hmac.digest(key.secret, second.encode(), "sha256").hex()
                if second is not None else None, key.id)

    def candidates(self, secret: str) -> tuple[str, ...]:
        """The hash under every key, the current one first: a stored hash is one of these."""
        data = secret.encode()
        return tuple(hmac.digest(key, data, "sha256").hex()
                     for key in self._source.keyring().secrets())

    def refresh(self) -> bool:
        """Load a keyring rotated in by another process now; True when it changed."""
        return self._source.refresh()

    def fingerprint(self) -> str:
        """Identifies the current key without revealing it."""
        return fingerprint(self._source.keyring().current.secret)
