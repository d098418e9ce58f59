"""Password hashing for people (argon2id). Tokens never go through here: see token_format."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this when the user is unknown keeps timing the same either way. It is
# made on first use: hashing costs a quarter of a second, which no CLI command should pay.
_DUMMY_HASH: str | None = None


def use_parameters(parameters: Parameters) -> None:
    """Hash new passwords with other argon2 parameters (the test suite uses argon2's cheapest
    profile). Existing hashes carry their own parameters and keep verifying."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher.from_parameters(parameters)
    _DUMMY_HASH = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    global _DUMMY_HASH
    if password_hash is None and _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("tokenry-timing-equaliser")
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH or "", password) \
            and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
