"""``ListSecretKeys``: the keyring's keys, which is current, when each was made and how many
stored credentials and sealed texts each still backs (no secret is ever returned)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tokenry.core import Core
from tokenry.storage.key_usage import count_by_key, needed_key_ids, original_key_id


@dataclass(frozen=True)
class KeyUsage:
    key_id: str
    current: bool
    created_at: datetime | None
    backs: int  # stored hashes and sealed texts made with it
    in_keyring: bool  # False: the database needs a key this server does not hold


def key_usage(core: Core) -> dict[str, int]:
    """Stored credentials per key id, rows from before key ids counted as the original key."""
    with core.db.read() as session:
        counts = count_by_key(session)
        original = original_key_id(session)
    usage: dict[str, int] = {}
    for kid, count in counts.items():
        name = kid if kid is not None else original
        if name is not None:
            usage[name] = usage.get(name, 0) + count
    return usage


def list_secret_keys(core: Core) -> list[KeyUsage]:
    keyring = core.keyring
    usage = key_usage(core)
    with core.db.read() as session:
        needed = needed_key_ids(session) or set()
    listed = [KeyUsage(key.id, key is keyring.current, key.created_at, usage.get(key.id, 0),
                       True) for key in keyring.keys]
    missing = (needed | set(usage)) - set(keyring.ids)
    return listed + [KeyUsage(kid, False, None, usage.get(kid, 0), False)
                     for kid in sorted(missing)]
