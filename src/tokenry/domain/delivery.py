"""One-time delivery links: the link secret, its hash, and the per-link encryption key.

The key that encrypts a token for delivery is derived from the server secret *and* the link
secret, which is never stored: a copy of the database plus the server secret still cannot
open an unread delivery. After retrieval the ciphertext is destroyed.
"""

from __future__ import annotations

import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

from tokenry.domain import sealed

LINK_BYTES = 32


def new_link_secret() -> str:
    return secrets.token_urlsafe(LINK_BYTES)


def link_hash(server_key: bytes, link_secret: str) -> str:
    return hmac.digest(server_key, b"delivery:" + link_secret.encode(), "sha256").hex()


def _fernet(server_key: bytes, link_secret: str) -> Fernet:
    return sealed.box(server_key + link_secret.encode(), b"tokenry delivery v1")


def seal(server_key: bytes, link_secret: str, plaintext: str) -> str:
    return _fernet(server_key, link_secret).encrypt(plaintext.encode()).decode()


def unseal(server_key: bytes, link_secret: str, ciphertext: str) -> str | None:
    try:
        return _fernet(server_key, link_secret).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return None
