"""Small query functions shared by operations and the verifier."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.domain.settings import AccountSettings
from tokenry.storage.models import AccountSetting


def account_settings(session: Session, account_id: int) -> AccountSettings:
    rows = session.execute(
        select(AccountSetting.key, AccountSetting.value).where(
            AccountSetting.account_id == account_id
        )
    )
    return AccountSettings.from_stored({key: value for key, value in rows})
