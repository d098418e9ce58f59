"""The server's keyring (the secrets every token hash and seal is keyed with), where it comes
from, and how a rotation is written. No secret is ever printed or logged.

Three sources, first match wins:

* ``TOKENRY_SECRET_KEYS``: several secrets, comma-separated, the current one first (for
  deployments that hand secrets in through the environment; rotate by editing the list);
* ``TOKENRY_SECRET_KEY``: one secret;
* the keyring file (``TOKENRY_SECRET_KEY_FILE``, default ``tokenry.secret`` beside a SQLite
  database, else in the working directory), created on first use, mode 0600. It holds either
  one bare secret (what tokenry has always written) or, after ``tokenry secret rotate``, a
  JSON keyring. A running server notices a rewritten file and reloads it without a restart.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

from tokenry.config import Settings
from tokenry.domain.keyring import Key, Keyring

log = logging.getLogger("tokenry.secret")

FORMAT = "tokenry keyring v1"
RECHECK_SECONDS = 1.0


class SecretKeyError(RuntimeError):
    pass


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`")


def parse_keyring_file(path: Path) -> Keyring:
    _check_mode(path)
    text = path.read_text().strip()
    if not text.startswith("{"):  # one bare secret: the format before keyrings
        try:
            return Keyring((Key.of(text.encode()),))
        except ValueError:
            raise SecretKeyError(
                f"{path} does not hold a usable secret (too short)") from None
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError("unknown format")
        keys = {entry["id"]: Key.of(entry["secret"].encode(),
                                    datetime.fromisoformat(entry["created_at"])
                                    if entry.get("created_at") else None)
                for entry in data["keys"]}
        for kid, key in keys.items():
            if key.id != kid:
                raise ValueError("a key's id does not match its secret")
        current = keys.pop(data["current"])
        return Keyring((current, *keys.values()))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        # the message names the problem only: parsing errors could quote the file
        raise SecretKeyError(f"{path} is not a usable tokenry keyring "
                             f"({type(error).__name__})") from None


def write_keyring_file(path: Path, keyring: Keyring) -> None:
    """Write the keyring atomically: a 0600 temporary file beside it, then a rename."""
    data = {"format": FORMAT, "current": keyring.current.id,
            "keys": [{"id": key.id,
                      "created_at": key.created_at.isoformat() if key.created_at else None,
                      "secret": key.secret.decode()} for key in keyring.keys]}
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def new_key(now: datetime | None = None) -> Key:
    return Key.of(secrets.token_urlsafe(48).encode(), now or datetime.now(UTC))


def _from_environment(settings: Settings) -> Keyring | None:
    if settings.secret_keys is not None:
        parts = [part.strip() for part in settings.secret_keys.get_secret_value().split(",")]
        try:
            return Keyring(tuple(Key.of(part.encode()) for part in parts if part))
        except ValueError:
            raise SecretKeyError("TOKENRY_SECRET_KEYS must list distinct secrets of at least "
                                 "32 characters each, the current one first") from None
    if settings.secret_key is not None:
        try:
            return Keyring((Key.of(settings.secret_key.get_secret_value().encode()),))
        except ValueError:
            raise SecretKeyError("TOKENRY_SECRET_KEY must be at least 32 characters long") \
                from None
    return None


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


class KeyringSource:
    """The keyring as this process currently knows it.

    With a keyring file, :meth:`keyring` re-reads it when it changed, checking at most once a
    second (one ``stat``); :meth:`refresh` checks now (verification calls it after a miss, so
    a token made with a key rotated in by another process verifies on its first request).
    A file that became unreadable or invalid keeps the keyring already loaded, and says so.
    """

    def __init__(self, keyring: Keyring, path: Path | None = None) -> None:
        self._keyring = keyring
        self.path = path
        self._signature = _signature(path) if path else None
        self._next_check = time.monotonic() + RECHECK_SECONDS

    def keyring(self) -> Keyring:
        if self.path is not None:
            now = time.monotonic()
            if now >= self._next_check:
                self._next_check = now + RECHECK_SECONDS
                self.refresh()
        return self._keyring

    def refresh(self) -> bool:
        """Reload a changed keyring file now; True when the keyring changed."""
        if self.path is None:
            return False
        signature = _signature(self.path)
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            fresh = parse_keyring_file(self.path)
        except (SecretKeyError, OSError) as error:
            log.warning("keeping the loaded keyring: %s", error)
            return False
        missing = set(self._keyring.ids) - set(fresh.ids)
        changed = fresh.ids != self._keyring.ids
        self._keyring = fresh
        if changed:
            log.info("keyring reloaded: current key %s, %d keys%s", fresh.current.id,
                     len(fresh.keys), f", retired {sorted(missing)}" if missing else "")
        return changed

    def __repr__(self) -> str:
        return f"KeyringSource(ids={self._keyring.ids!r}, path={self.path!r})"


def keyring_file(settings: Settings) -> Path | None:
    """The keyring file this configuration reads, or None when the environment holds it."""
    if settings.secret_keys is not None or settings.secret_key is not None:
        return None
    return settings.resolved_secret_key_file()


def load_source(settings: Settings) -> KeyringSource:
    environment = _from_environment(settings)
    if environment is not None:
        return KeyringSource(environment)
    path = settings.resolved_secret_key_file()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return KeyringSource(parse_keyring_file(path), path)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return KeyringSource(parse_keyring_file(path), path)


def load_or_create(settings: Settings) -> bytes:
    """The current secret (kept for callers that need one key)."""
    return load_source(settings).keyring().current.secret
