"""CreateAccount and the account reads. Accounts are created by the operator (CLI)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict, Invalid, NotFound
from tokenry.operations._common import audit
from tokenry.operations.context import Actor
from tokenry.storage.models import Account

SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def validate_subdomain(subdomain: str) -> str:
    cleaned = subdomain.strip().lower()
    if not SUBDOMAIN.match(cleaned):
        raise Invalid.field("subdomain", "use 1-63 lower-case letters, digits or inner hyphens")
    return cleaned


def create_account(core: Core, *, subdomain: str, name: str | None = None) -> Account:
    with core.db.transaction() as session:
        return add_account(session, core, subdomain=subdomain, name=name)


def add_account(session: Session, core: Core, *, subdomain: str,
                name: str | None = None) -> Account:
    """Insert an account inside the caller's transaction."""
    subdomain = validate_subdomain(subdomain)
    if session.scalar(select(Account.id).where(Account.subdomain == subdomain)) is not None:
        raise Conflict(f"An account with subdomain {subdomain!r} already exists.")
    account = Account(subdomain=subdomain, name=(name or subdomain).strip()[:200],
                      large_token_limit=False, created_at=core.clock())
    session.add(account)
    session.flush()
    audit(session, core, Actor.system(account.id, via="cli"), action=Action.CREATE,
          source_type=SourceType.ACCOUNT, source_id=account.id, source_label=subdomain,
          description=f"Created account {subdomain}")
    return account


def list_accounts(core: Core) -> list[Account]:
    with core.db.read() as session:
        return list(session.scalars(select(Account).order_by(Account.id)))


def find_account(core: Core, subdomain: str) -> Account:
    with core.db.read() as session:
        account = session.scalar(select(Account).where(Account.subdomain == subdomain.lower()))
        if account is None:
            raise NotFound(f"There is no account {subdomain!r}.")
        return account
