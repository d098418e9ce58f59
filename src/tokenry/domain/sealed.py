"""Secrets tokenry must read back later, encrypted at rest with keys derived from the server secret.

Each use has its own derived key (HKDF with a distinct label), so a ciphertext from one place
can never be opened as another. A copy of the database alone opens nothing.

- the private part of a queued notification (a one-time delivery link), erased once sent;
- a queued e-mail's attachment (an audit log export: e-mails, IPs), erased once sent;
- write-only account settings (a webhook signing secret, a Slack bot token).

Sealed with a keyring, the text names the key that sealed it (``k:<key id>:<Fernet token>``),
so after a rotation it is opened with that key; a bare Fernet token was sealed before key ids
and is tried with every key.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tokenry.domain.keyring import Keyring

OUTBOX = b"tokenry outbox v1"
ATTACHMENT = b"tokenry outbox attachment v1"
SETTING = b"tokenry setting v1"
SETTING_MARK = "sealed:v1:"
ENVELOPE = "k:"


def box(key_material: bytes, label: bytes) -> Fernet:
    """A Fernet key derived (HKDF-SHA256) from ``key_material`` for one use, named by
    ``label``; delivery links derive theirs from the server secret and the link together."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(key_material)
    return Fernet(base64.urlsafe_b64encode(key))


Keys = bytes | Keyring


def _envelope(keys: Keys, make: Callable[[bytes], bytes]) -> str:
    """Seal with the current key, naming it: ``k:<key id>:<Fernet token>``. A bare key
    (``bytes``) gives a bare Fernet token, as before key ids."""
    if isinstance(keys, bytes):
        return make(keys).decode()
    key = keys.current
    return f"{ENVELOPE}{key.id}:{make(key.secret).decode()}"


def _open(keys: Keys, ciphertext: str, attempt: Callable[[bytes, bytes], bytes]) -> bytes | None:
    """Open with the key the envelope names (a bare token: made before key ids, so try every
    key); None when no key here made it: an unknown key id is refused, never guessed."""
    kid: str | None = None
    if ciphertext.startswith(ENVELOPE):
        kid, _, ciphertext = ciphertext[len(ENVELOPE):].partition(":")
    if isinstance(keys, bytes):
        candidates: tuple[bytes, ...] = (keys,)
    else:
        candidates = tuple(key.secret for key in keys.opening_order(kid))
    for secret in candidates:
        try:
            return attempt(secret, ciphertext.encode())
        except (InvalidToken, ValueError):
            continue
    return None


def key_id_of(ciphertext: str) -> str | None:
    """The key id a sealed text names; None for one sealed before key ids."""
    if not ciphertext.startswith(ENVELOPE):
        return None
    return ciphertext[len(ENVELOPE):].partition(":")[0]


def seal(server_key: Keys, label: bytes, plaintext: str) -> str:
    return _envelope(server_key, lambda key: box(key, label).encrypt(plaintext.encode()))


def unseal(server_key: Keys, label: bytes, ciphertext: str) -> str | None:
    """The plaintext, or None when the ciphertext was not made with these keys and label."""
    opened = _open(server_key, ciphertext, lambda key, data: box(key, label).decrypt(data))
    return opened.decode() if opened is not None else None


def seal_bytes(server_key: Keys, label: bytes, plaintext: bytes) -> str:
    return _envelope(server_key, lambda key: box(key, label).encrypt(plaintext))


def unseal_bytes(server_key: Keys, label: bytes, ciphertext: str) -> bytes | None:
    """The plaintext bytes, or None when not made with these keys and label."""
    return _open(server_key, ciphertext, lambda key, data: box(key, label).decrypt(data))


def seal_setting(server_key: Keys, value: str) -> str:
    return SETTING_MARK + seal(server_key, SETTING, value) if value else ""


def open_setting(server_key: Keys, stored: str) -> str:
    """A stored secret setting in clear; values saved before sealing existed pass through."""
    if not stored.startswith(SETTING_MARK):
        return stored
    return unseal(server_key, SETTING, stored[len(SETTING_MARK):]) or ""
