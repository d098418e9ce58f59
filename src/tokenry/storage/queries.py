"""Small query functions shared by operations and the verifier."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

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
