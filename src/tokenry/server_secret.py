"""The server secret (pepper) every token hash is keyed with. It is never printed or logged."""

from __future__ import annotations

import os
import secrets
import stat

from tokenry.config import Settings


class SecretKeyError(RuntimeError):
    pass


def load_or_create(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value().encode()
        if len(key) < 32:
            raise SecretKeyError("TOKENRY_SECRET_KEY must be at least 32 characters long")
        return key
    path = settings.resolved_secret_key_file()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretKeyError(
                f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
            ) from None
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise SecretKeyError(f"{path} does not hold a usable secret (too short)") from None
        return key
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_bytes().strip()
