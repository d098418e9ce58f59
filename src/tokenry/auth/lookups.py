"""The database side of verification: one indexed query per cache miss."""

from __future__ import annotations

from sqlalchemy import select

from tokenry.auth.records import AccountRecord, TokenRecord, UserRecord
from tokenry.storage.database import Database
from tokenry.storage.models import Account, ApiToken, User
from tokenry.storage.queries import account_settings


class Lookups:
    def __init__(self, db: Database) -> None:
        self._db = db

    def account(self, subdomain: str) -> AccountRecord | None:
        with self._db.read() as session:
            account = session.scalar(select(Account).where(Account.subdomain == subdomain))
            if account is None:
                return None
            settings = account_settings(session, account.id)
            return AccountRecord(account.id, account.subdomain, settings.token_access,
                                 settings.password_access, settings.rate_limit_per_minute)

    def token(self, secret_hash: str) -> TokenRecord | None:
        with self._db.read() as session:
            row = session.execute(
                select(ApiToken.id, ApiToken.account_id, ApiToken.active, ApiToken.expires_at,
                       ApiToken.user_id, ApiToken.secret_hash)
                .where(ApiToken.secret_hash == secret_hash)
            ).first()
            return TokenRecord(*row) if row else None

    def user(self, account_id: int, email: str) -> UserRecord | None:
        return self._user(User.email == email, account_id)

    def user_by_id(self, account_id: int, user_id: int) -> UserRecord | None:
        return self._user(User.id == user_id, account_id)

    def password_hash(self, account_id: int, email: str) -> str | None:
        with self._db.read() as session:
            return session.scalar(
                select(User.password_hash).where(User.account_id == account_id,
                                                 User.email == email)
            )

    def _user(self, condition: object, account_id: int) -> UserRecord | None:
        with self._db.read() as session:
            row = session.execute(
                select(User.id, User.account_id, User.email, User.name, User.role,
                       User.verified, User.suspended, User.created_at, User.updated_at)
                .where(condition, User.account_id == account_id)  # type: ignore[arg-type]
            ).first()
            return UserRecord(*row) if row else None
