"""Initialise: migrate, check the server secret, create the default account and first admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tokenry.core import Core
from tokenry.domain.errors import Conflict
from tokenry.operations.accounts import add_account
from tokenry.operations.context import Actor
from tokenry.operations.users import add_user
from tokenry.storage.key_usage import (
    FINGERPRINT,
    KEY_IDS,
    needed_key_ids,
    set_needed_key_ids,
)
from tokenry.storage.models import Account, ServerInfo, User

BOOTSTRAP_ADMIN = "bootstrap_admin_id"


class SecretMismatch(RuntimeError):
    pass


@dataclass(frozen=True)
class BootstrapReport:
    admin_email: str
    admin_password: str | None  # set only when it was generated just now; show it once

    def __repr__(self) -> str:
        return f"BootstrapReport(admin_email={self.admin_email!r})"


def check_server_secret(core: Core) -> None:
    """Refuse to run without every key the database's data was made with; then record the
    current key as one the data may need from now on."""
    keyring = core.keyring
    with core.db.transaction() as session:
        if session.get(ServerInfo, FINGERPRINT) is None:
            session.add(ServerInfo(key=FINGERPRINT, value=keyring.current.fingerprint))
            session.flush()
        needed = needed_key_ids(session) or set()
        missing = needed - set(keyring.ids)
        if missing:
            raise SecretMismatch(
                "The server's keyring lacks the key(s) "
                f"{', '.join(sorted(missing))} this database was made with, so tokens made "
                "with them would not verify. Restore the keyring file (or TOKENRY_SECRET_KEY / "
                "TOKENRY_SECRET_KEYS) that holds them.")
        if keyring.current.id not in needed or session.get(ServerInfo, KEY_IDS) is None:
            set_needed_key_ids(session, needed | {keyring.current.id})


def bootstrap(core: Core) -> BootstrapReport | None:
    """Create the default account and its first admin on an empty database; else do nothing."""
    check_server_secret(core)
    settings = core.settings
    with core.db.read() as session:
        if session.scalar(select(Account.id).limit(1)) is not None:
            return None
    generated = None
    if settings.admin_password is not None:
        password = settings.admin_password.get_secret_value()
    else:
        password = generated = secrets.token_urlsafe(18)
    try:
        with core.db.transaction() as session:  # all or nothing: no account without its admin
            account = add_account(session, core, subdomain=settings.default_subdomain,
                                  name="Default account")
            admin = add_user(session, core, Actor.system(account.id), email=settings.admin_email,
                             name="Administrator", role="admin", password=password)
            session.add(ServerInfo(key=BOOTSTRAP_ADMIN, value=str(admin.id)))
    except (Conflict, IntegrityError):
        return None  # another node bootstrapped at the same moment
    return BootstrapReport(admin_email=admin.email, admin_password=generated)


def bootstrap_admin(core: Core) -> User | None:
    with core.db.read() as session:
        info = session.get(ServerInfo, BOOTSTRAP_ADMIN)
        return session.get(User, int(info.value)) if info else None
