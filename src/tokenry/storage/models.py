"""The tables. Migrations in ``storage/migrations`` create exactly these."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    true,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from tokenry.storage.types import IdType, UTCDateTime


class Base(DeclarativeBase):
    pass


# SQLite reuses the largest rowid after a delete unless a table is AUTOINCREMENT; an id must
# never name two things (two tokens would share one audit history).
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


def _created_day(context: DefaultExecutionContext) -> date:
    """A new token's ``active_on``: the UTC day it was created (its insert's created_at)."""
    created: datetime = context.get_current_parameters()["created_at"]  # type: ignore[no-untyped-call]
    return created.astimezone(UTC).date()


class ServerInfo(Base):
    """Facts about this installation (secret fingerprint, bootstrap admin)."""

    __tablename__ = "server_info"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    subdomain: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    large_token_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountSetting(Base):
    __tablename__ = "account_settings"
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("account_id", "email", name="uq_users_account_email"),
                      Index("ix_users_manager", "manager_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    provisioner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (
        Index("ix_api_tokens_account", "account_id", "id"),
        # the foreign keys a user's deletion follows
        Index("ix_api_tokens_user", "user_id"),
        Index("ix_api_tokens_created_by", "created_by_id"),
        # the scheduler's questions: removal dates, long deactivation, extensions, inactivity
        Index("ix_api_tokens_account_expires", "account_id", "expires_at"),
        Index("ix_api_tokens_account_deactivated", "account_id", "deactivated_at"),
        Index("ix_api_tokens_account_retire", "account_id", "retire_at"),
        # inactivity: by the day of last activity, which the usage flush changes at most
        # once a day per token (an index on last_used_at itself would cost every flush
        # PostgreSQL's in-place updates)
        Index("ix_api_tokens_account_active_on", "account_id", "active_on"),
        NEVER_REUSE_IDS,
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    display: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the UTC day of last_used_at, else of created_at: what the inactivity questions ask
    active_on: Mapped[date] = mapped_column(Date, default=_created_day)
    last_used_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_used_user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    # governance: how the token came to be, and when the scheduler acts on it
    kind: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    access_request_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retire_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Zendesk-style scopes in canonical form (domain.scopes); None: unscoped, full power.
    scopes: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True,
                                                     default=None)


class AccessRequest(Base):
    __tablename__ = "access_requests"
    __table_args__ = (Index("ix_access_requests_account_state", "account_id", "state"),
                      Index("ix_access_requests_requester", "requester_id"),
                      Index("ix_access_requests_holder", "holder_id"),
                      Index("ix_access_requests_extends", "extends_request_id"),
                      NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    service_name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    use_case: Mapped[str] = mapped_column(Text)
    admin_required: Mapped[bool] = mapped_column(Boolean, default=True)
    admin_justification: Mapped[str] = mapped_column(Text, default="")
    removal_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20))
    extends_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("access_requests.id", ondelete="SET NULL"), nullable=True)
    manager_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    manager_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    provisioner_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    provisioner_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    denied_by_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    denial_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    token_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    # who the issued token acts as: the holder (None) or a service user the provisioner picked
    acts_as_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    # api_token, or integration: an OAuth client with these scopes, kind and redirect URIs
    kind: Mapped[str] = mapped_column(String(16), default="api_token",
                                      server_default="api_token")
    # canonical scopes (domain.scopes) asked for; None: an unscoped API token
    scopes: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True,
                                                     default=None)
    client_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    redirect_uris: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True),
                                                            nullable=True, default=None)
    oauth_client_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Delivery(Base):
    """A one-time link to a new token's secret, encrypted at rest until it is retrieved."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_account_expires", "account_id", "expires_at"),
                      Index("ix_deliveries_recipient", "recipient_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    access_request_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    token_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    oauth_client_id: Mapped[int | None] = mapped_column(IdType, nullable=True)  # or a client's
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retrieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retrieved_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Notification(Base):
    """The outbox: written with the event it announces, delivered later by a worker."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),
                      Index("ix_notifications_account_status_created", "account_id", "status",
                            "created_at"),
                      NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the private part (a delivery link), encrypted with a key derived from the server secret;
    # erased once the row is sent or dead
    sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    # an e-mail's one attachment (an audit log export): its file name, and its content
    # zlib-compressed then sealed like ``sealed``; erased once the row is sent or dead. Loaded
    # only when asked for, so listing the outbox never reads megabytes.
    attachment_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attachment: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CalendarFeed(Base):
    """A provisioner's secret-address iCalendar feed; rotating it replaces the hash."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ix_calendar_feeds_account", "account_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # every documented filter of the audit log, each ending in the keyset (created_at, id)
        # its pages walk, so a page is an index range scan in either direction
        Index("ix_audit_account_created", "account_id", "created_at", "id"),
        Index("ix_audit_source", "account_id", "source_type", "source_id", "created_at", "id"),
        Index("ix_audit_source_id", "account_id", "source_id", "created_at", "id"),
        Index("ix_audit_actor", "account_id", "actor_id", "created_at", "id"),
        Index("ix_audit_action", "account_id", "action", "created_at", "id"),
        Index("ix_audit_ip", "account_id", "ip_address", "created_at", "id"),
        NEVER_REUSE_IDS,
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32))
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    source_label: Mapped[str] = mapped_column(String(512))
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    via: Mapped[str] = mapped_column(String(16))
    # the credential that acted: "token 17", "password", "session", "cli", "system", "link"
    credential: Mapped[str] = mapped_column(String(32), default="", server_default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    change_description: Mapped[str] = mapped_column(Text, default="")
    # Zendesk's actor_name: the acting user's name now, read with the event (none when the
    # actor was no user of the account, or is gone)
    actor_name: Mapped[str | None] = column_property(
        select(User.name).where(User.id == actor_id, User.account_id == account_id)
        .correlate_except(User).scalar_subquery())


class UsageCounter(Base):
    """Requests per minute by token, caller and endpoint, for the usage dashboard."""

    __tablename__ = "usage_counters"
    __table_args__ = (
        UniqueConstraint(
            "minute", "token_id", "user_id", "ip_address", "endpoint", name="uq_usage_bucket"
        ),
        Index("ix_usage_account_minute", "account_id", "minute"),
        NEVER_REUSE_IDS,
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    minute: Mapped[datetime] = mapped_column(UTCDateTime)
    token_id: Mapped[int] = mapped_column(IdType)
    user_id: Mapped[int] = mapped_column(IdType)
    ip_address: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(255))
    count: Mapped[int] = mapped_column(IdType, default=0)


class WebSession(Base):
    """A signed-in browser. The cookie holds a secret; only its keyed hash is stored here.

    Deleting the row ends the session: sign-out, and any change that must end it at once
    (suspension, a role change, a new password) delete the user's rows.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_account", "account_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Invitation(Base):
    """A one-time, expiring link with which a user sets their first password."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_account_expires", "account_id", "expires_at"),
                      NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    created_by_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OAuthClient(Base):
    """An OAuth application of the account. A confidential client's secret is stored only as
    its keyed hash, like an API token's."""

    __tablename__ = "oauth_clients"
    __table_args__ = (UniqueConstraint("account_id", "identifier",
                                       name="uq_oauth_clients_account_identifier"),
                      Index("ix_oauth_clients_user", "user_id"),
                      Index("ix_oauth_clients_account_expires", "account_id", "expires_at"),
                      NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    # canonical scopes (domain.scopes); None: whatever the account's ceiling allows
    allowed_scopes: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True),
                                                             nullable=True, default=None)
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    secret_display: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # who a client_credentials token acts as
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                nullable=True)
    # lifetimes in seconds; None: the account's settings
    access_token_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refresh_token_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # an integration request's client lives until the request's removal date; a switched-off
    # client authenticates nothing and its tokens are revoked
    access_request_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OAuthCode(Base):
    """An authorization code: hashed, short-lived, used once."""

    __tablename__ = "oauth_codes"
    __table_args__ = (Index("ix_oauth_codes_account_expires", "account_id", "expires_at"),
                      Index("ix_oauth_codes_user", "user_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_challenge_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # the family of the tokens this code is exchanged for: a replayed code revokes them
    family: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OAuthToken(Base):
    """An access token and (optionally) its refresh token. Both stored only as keyed hashes.

    Refreshing spends this row's refresh token (``refreshed_at``) and issues a new row of the
    same ``family``; presenting a spent refresh token revokes the whole family."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_account", "account_id", "id"),
                      Index("ix_oauth_tokens_family", "family"),
                      Index("ix_oauth_tokens_user", "user_id"), NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # the keyring's key that made the hash (domain/keyring.py); NULL: the original key
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    display: Mapped[str] = mapped_column(String(64))
    refresh_display: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_type: Mapped[str] = mapped_column(String(32))
    family: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the access token's last use, written in batches like an API token's (Zendesk's used_at)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
