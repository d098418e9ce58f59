"""Secrets tokenry must read back later, encrypted at rest with keys derived from the server secret.

Each use has its own derived key (HKDF with a distinct label), so a ciphertext from one place
can never be opened as another. A copy of the database alone opens nothing.

- the private part of a queued notification (a one-time delivery link), erased once sent;
- a queued e-mail's attachment (an audit log export: e-mails, IPs), erased once sent;
- write-only account settings (a webhook signing secret, a Slack bot token).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

OUTBOX = b"tokenry outbox v1"
ATTACHMENT = b"tokenry outbox attachment v1"
SETTING = b"tokenry setting v1"
SETTING_MARK = "sealed:v1:"


def box(key_material: bytes, label: bytes) -> Fernet:
    """A Fernet key derived (HKDF-SHA256) from ``key_material`` for one use, named by
    ``label``; delivery links derive theirs from the server secret and the link together."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(key_material)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(server_key: bytes, label: bytes, plaintext: str) -> str:
    return box(server_key, label).encrypt(plaintext.encode()).decode()


def unseal(server_key: bytes, label: bytes, ciphertext: str) -> str | None:
    """The plaintext, or None when the ciphertext was not made with this key and label."""
    try:
        return box(server_key, label).decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def seal_bytes(server_key: bytes, label: bytes, plaintext: bytes) -> str:
    return box(server_key, label).encrypt(plaintext).decode()


def unseal_bytes(server_key: bytes, label: bytes, ciphertext: str) -> bytes | None:
    """The plaintext bytes, or None when not made with this key and label."""
    try:
        return box(server_key, label).decrypt(ciphertext.encode())
    except (InvalidToken, ValueError):
        return None


def seal_setting(server_key: bytes, value: str) -> str:
    return SETTING_MARK + seal(server_key, SETTING, value) if value else ""


def open_setting(server_key: bytes, stored: str) -> str:
    """A stored secret setting in clear; values saved before sealing existed pass through."""
    if not stored.startswith(SETTING_MARK):
        return stored
    return unseal(server_key, SETTING, stored[len(SETTING_MARK):]) or ""
