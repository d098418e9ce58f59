"""Parse an Authorization header into a credential. Anything odd is simply no credential."""

from __future__ import annotations

import binascii
from base64 import b64decode
from dataclasses import dataclass

TOKEN_MARKER = "/token"  # noqa: S105 - the Basic-auth marker, not a secret


@dataclass(frozen=True, slots=True)
class TokenCredential:
    secret: str
    email: str | None  # None for Bearer: the token must then be bound to a user

    def __repr__(self) -> str:
        return f"TokenCredential(email={self.email!r})"


@dataclass(frozen=True, slots=True)
class PasswordCredential:
    email: str
    password: str

    def __repr__(self) -> str:
        return f"PasswordCredential(email={self.email!r})"


Credential = TokenCredential | PasswordCredential


def parse_authorization(header: str | None) -> Credential | None:
    """Read ``Basic base64(email/token:SECRET)``, ``Basic base64(email:password)``
    or ``Bearer SECRET``."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if not value:
        return None
    if scheme == "bearer":
        return TokenCredential(secret=value, email=None) if value.isprintable() else None
    if scheme != "basic":
        return None
    try:
        decoded = b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, secret = decoded.partition(":")
    if not sep or not user or not secret or not decoded.isprintable():
        return None  # a NUL or other control character is never part of an email or secret
    if user.lower().endswith(TOKEN_MARKER):
        email = user[: -len(TOKEN_MARKER)].strip().lower()
        return TokenCredential(secret=secret, email=email) if email else None
    return PasswordCredential(email=user.strip().lower(), password=secret)
