"""``RotateSecret``: add a new server key and make it current (or stage it, then activate
it); every older key keeps verifying and opening what it made. The new secret is written
only to the keyring file (0600, atomically) and never shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tokenry.core import Core
from tokenry.domain.errors import NotFound
from tokenry.operations._keyring_file import locked_keyring_file
from tokenry.server_secret import new_key, parse_keyring_file, write_keyring_file
from tokenry.storage.key_usage import needed_key_ids, set_needed_key_ids

log = logging.getLogger("tokenry.secret")


@dataclass(frozen=True)
class Rotated:
    key_id: str
    previous_id: str
    path: Path
    keys: int


def rotate_secret(core: Core, *, staged: bool = False) -> Rotated:
    """A new key, current at once; or, ``staged``, only known (it verifies, nothing is made
    with it) until :func:`activate_secret`: on several nodes, copy the staged keyring to
    every node first, so no node ever meets a token made with a key it does not hold."""
    with locked_keyring_file(core) as path:
        before = parse_keyring_file(path)
        key = new_key(core.clock())
        after = before.with_staged(key) if staged else before.with_new_current(key)
        write_keyring_file(path, after)
    if not staged:
        register_key(core, key.id, before.ids)
    core.keys.refresh()
    log.info("server secret rotated: key %s is %s, %s %s", key.id,
             "staged" if staged else "current", before.current.id,
             "stays current" if staged else "kept for verification")
    return Rotated(key_id=key.id, previous_id=before.current.id, path=path,
                   keys=len(after.keys))


def activate_secret(core: Core, key_id: str) -> Rotated:
    """Make a staged (or older) key of the keyring current."""
    with locked_keyring_file(core) as path:
        before = parse_keyring_file(path)
        if before.get(key_id) is None:
            raise NotFound(f"The keyring holds no key {key_id}.")
        after = before.with_current(key_id)
        write_keyring_file(path, after)
    register_key(core, key_id, before.ids)
    core.keys.refresh()
    log.info("server key %s is current, %s kept for verification", key_id, before.current.id)
    return Rotated(key_id=key_id, previous_id=before.current.id, path=path,
                   keys=len(after.keys))


def register_key(core: Core, key_id: str, known: tuple[str, ...]) -> None:
    """Record that data may now be made with ``key_id``. After the file is written: a key
    the database lists must exist in the keyring, or no server would start."""
    with core.db.transaction() as session:
        set_needed_key_ids(session, (needed_key_ids(session) or set(known[:1])) | {key_id})
