"""Small query functions shared by operations and the verifier."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tokenry.domain.settings import AccountSettings
from tokenry.storage.models import Account, AccountSetting


def account_settings(session: Session, account_id: int) -> AccountSettings:
    rows = session.execute(
        select(AccountSetting.key, AccountSetting.value).where(
            AccountSetting.account_id == account_id
        )
    )
    return AccountSettings.from_stored({key: value for key, value in rows})


def instance_identity(session: Session, account_id: int,
                      default_base_url: str) -> tuple[str, str]:
    """How people see this account: its display name and base URL (two instances, such as a
    global one and a US Government one, must never be confused)."""
    settings = account_settings(session, account_id)
    name = settings.display_name or session.scalar(
        select(Account.name).where(Account.id == account_id)) or ""
    return name, (settings.base_url or default_base_url).rstrip("/")


def matches(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
            digests: str | tuple[str, ...]) -> ColumnElement[bool]:
    """``column`` equals the digest, or one of several (one per key of the keyring): a
    single key keeps the plain equality, so a one-key server's query is unchanged."""
    if isinstance(digests, str):
        return column == digests
    if len(digests) == 1:
        return column == digests[0]
    return column.in_(digests)
