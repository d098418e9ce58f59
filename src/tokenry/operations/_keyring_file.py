"""The keyring file an operation may rewrite, held under a lock so two commands never race."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tokenry.core import Core
from tokenry.domain.errors import Conflict
from tokenry.server_secret import keyring_file

FROM_ENVIRONMENT = (
    "The server secret comes from {variable}, so there is no keyring file to rewrite (one "
    "written now would never be read). Rotate through the environment instead: generate a "
    "secret (`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), set "
    "TOKENRY_SECRET_KEYS=NEW,OLD (the current one first, comma-separated) on every node, "
    "and restart them; drop OLD from the list once `tokenry secret list` shows it backs "
    "nothing.")


@contextmanager
def locked_keyring_file(core: Core) -> Iterator[Path]:
    path = keyring_file(core.settings)
    if path is None:
        variable = "TOKENRY_SECRET_KEYS" if core.settings.secret_keys is not None \
            else "TOKENRY_SECRET_KEY"
        raise Conflict(FROM_ENVIRONMENT.format(variable=variable))
    lock = path.with_name(f".{path.name}.lock")
    descriptor = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)  # empty, never read
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield path
    finally:
        os.close(descriptor)  # closing releases the lock
