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
from tokenry.domain.keyring import Keyring

LINK_BYTES = 32


def new_link_secret() -> str:
    return secrets.token_urlsafe(LINK_BYTES)


def link_hash(server_key: bytes, link_secret: str) -> str:
    return hmac.digest(server_key, b"delivery:" + link_secret.encode(), "sha256").hex()


def link_hashes(keyring: Keyring, link_secret: str) -> tuple[str, ...]:
    """The link's hash under every key, current first: the stored one is among them."""
    return tuple(link_hash(secret, link_secret) for secret in keyring.secrets())


def _fernet(server_key: bytes, link_secret: str) -> Fernet:
    return sealed.box(server_key + link_secret.encode(), b"tokenry delivery v1")


def seal(server_key: bytes, link_secret: str, plaintext: str) -> str:
    return _fernet(server_key, link_secret).encrypt(plaintext.encode()).decode()


def unseal(server_key: bytes, link_secret: str, ciphertext: str) -> str | None:
    try:
        return _fernet(server_key, link_secret).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return None


def unseal_made_by(keyring: Keyring, key_id: str | None, link_secret: str,
                   ciphertext: str) -> str | None:
    """Open a delivery sealed by the key ``key_id`` (NULL: before key ids, any key); None
    when the keyring no longer holds that key."""
    for key in keyring.opening_order(key_id):
        opened = unseal(key.secret, link_secret, ciphertext)
        if opened is not None:
            return opened
    return None
