"""``RetireSecret``: drop a key from the keyring once nothing stored still needs it. Refused
for the current key and for a key that still backs any credential or sealed text."""

from __future__ import annotations

import logging

from tokenry.core import Core
from tokenry.domain.errors import Conflict, NotFound
from tokenry.operations._keyring_file import locked_keyring_file
from tokenry.operations.secret_keys import key_usage
from tokenry.server_secret import parse_keyring_file, write_keyring_file
from tokenry.storage.key_usage import needed_key_ids, set_needed_key_ids

log = logging.getLogger("tokenry.secret")


def retire_secret(core: Core, key_id: str) -> None:
    with locked_keyring_file(core) as path:
        keyring = parse_keyring_file(path)
        if keyring.get(key_id) is None:
            raise NotFound(f"The keyring holds no key {key_id}.")
        if keyring.current.id == key_id:
            raise Conflict(f"Key {key_id} is the current key; rotate first.")
        backs = key_usage(core).get(key_id, 0)
        if backs:
            raise Conflict(
                f"Key {key_id} still backs {backs} stored credential(s) or sealed text(s); "
                "they would stop working. Wait until they expire or are re-issued.")
        # the database first: a keyring holding a key the database no longer lists is
        # harmless, the reverse would stop every server from starting
        with core.db.transaction() as session:
            set_needed_key_ids(session, (needed_key_ids(session) or set()) - {key_id})
        write_keyring_file(path, keyring.without(key_id))
    core.keys.refresh()
    log.info("server key %s retired", key_id)
