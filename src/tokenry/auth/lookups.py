"""The database side of verification: one indexed query per cache miss."""

from __future__ import annotations

from sqlalchemy import select

from tokenry.auth.records import AccessTokenRecord, AccountRecord, TokenRecord, UserRecord
from tokenry.storage.database import Database
from tokenry.storage.models import Account, ApiToken, OAuthClient, OAuthToken, User
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
                                 settings.password_access, settings.rate_limit_per_minute,
                                 settings.scope_ceiling)

    def token(self, secret_hash: str) -> TokenRecord | None:
        with self._db.read() as session:
            row = session.execute(
                select(ApiToken.id, ApiToken.account_id, ApiToken.active, ApiToken.expires_at,
                       ApiToken.user_id, ApiToken.secret_hash, ApiToken.scopes)
                .where(ApiToken.secret_hash == secret_hash)
            ).first()
            if row is None:
                return None
            return TokenRecord(row.id, row.account_id, row.active, row.expires_at, row.user_id,
                               row.secret_hash,
                               tuple(row.scopes) if row.scopes is not None else None)

    def access_token(self, access_hash: str) -> AccessTokenRecord | None:
        """A live-or-expired OAuth access token; a revoked one, or one of a switched-off
        client, is as absent as none. Its expiry is its client's removal date when that
        comes first, so a cached token stops at that moment with no extra check per hit."""
        with self._db.read() as session:
            row = session.execute(
                select(OAuthToken.id, OAuthToken.account_id, OAuthToken.client_id,
                       OAuthToken.user_id, OAuthToken.scopes, OAuthToken.expires_at,
                       OAuthClient.expires_at.label("client_expires_at"))
                .join(OAuthClient, OAuthClient.id == OAuthToken.client_id)
                .where(OAuthToken.access_hash == access_hash,
                       OAuthToken.revoked_at.is_(None), OAuthClient.active.is_(True))
            ).first()
            if row is None:
                return None
            ends = row.expires_at if row.client_expires_at is None \
                else min(row.expires_at, row.client_expires_at)
            return AccessTokenRecord(row.id, row.account_id, row.client_id, row.user_id,
                                     tuple(row.scopes), ends)

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
