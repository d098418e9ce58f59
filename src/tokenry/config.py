"""tokenry's settings: one pydantic-settings class, built by :func:`load_settings` and passed in.

Values come from ``TOKENRY_*`` environment variables, then from a settings file
(``TOKENRY_SETTINGS_FILE``, default ``./tokenry.env`` when it exists), then the defaults.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from tokenry.domain.token_format import validate_prefix


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOKENRY_", extra="ignore")

    database_url: str = "sqlite:///./tokenry.db"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str = "http://127.0.0.1:8000"
    base_domain: str = "localhost"
    default_subdomain: str = "default"
    secret_key: SecretStr | None = None
    # several server secrets, comma-separated, the current one first (see server_secret.py)
    secret_keys: SecretStr | None = None
    secret_key_file: Path | None = None
    token_prefix: str = "tkry"  # noqa: S105 - a public prefix, not a secret
    admin_email: str = "admin@tokenry.local"
    admin_password: SecretStr | None = None
    # Seconds a verification may be served from memory while nothing tells this node of other
    # nodes' changes (0 turns the cache off) ...
    verify_cache_ttl: float = Field(2.0, ge=0, le=300)
    # ... and while the invalidation watcher is connected and does (PostgreSQL LISTEN, or the
    # SQLite generation poll)
    verify_cache_ttl_listening: float = Field(300.0, ge=0, le=86400)
    verify_cache_entries: int = Field(100_000, ge=1)
    usage_flush_interval: float = Field(5.0, gt=0, le=3600)
    auth_failure_limit: int = Field(20, ge=1)
    auth_failure_window: int = Field(60, ge=1)
    # Proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDRs); none by default
    forwarded_allow_ips: str = ""
    # e-mail notifications (off while smtp_host is empty)
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = "tokenry@localhost"
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # the scheduler and the notification worker
    scheduler_enabled: bool = True
    scheduler_interval: float = Field(60.0, gt=0, le=86400)
    notification_interval: float = Field(5.0, gt=0, le=3600)
    notification_max_attempts: int = Field(10, ge=1, le=100)
    notification_timeout: float = Field(10.0, gt=0, le=120)
    webhook_allow_private: bool = False  # allow webhook receivers on private addresses
    slack_api_url: str = "https://slack.com/api"  # Slack Web API (bot token DMs)
    node_id: str = ""  # this node's name for outbox leases; default: the host name
    # Admin Center sessions: signed out after this long without a request, and after this
    # long in any case
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_lifetime_hours: int = Field(12, ge=1, le=24 * 30)
    # Prometheus metrics: on a port of their own (unauthenticated, bound to metrics_host), or
    # on the main port for requests bearing metrics_token; neither set: not served
    metrics_port: int | None = Field(None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_token: SecretStr | None = None
    # Many nodes: with redis_url set, the failure throttle, the rate limit and usage counts are
    # shared through Redis under redis_prefix (default: derived from database_url; set it when
    # the nodes spell one database differently, a relative SQLite path from other directories)
    redis_url: SecretStr | None = None
    redis_prefix: str = ""
    redis_timeout: float = Field(0.25, gt=0, le=10)
    redis_sync_interval: float = Field(0.1, gt=0, le=10)  # seconds between rate-limit syncs
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"

    @field_validator("token_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return validate_prefix(value)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        backend = make_url(value).get_backend_name()
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError("database_url must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @model_validator(mode="after")
    def _smtp_login_needs_tls(self) -> Settings:
        local_relay = self.smtp_host in {"127.0.0.1", "::1", "localhost"}
        if self.smtp_username and not self.smtp_starttls and not local_relay:
            raise ValueError("smtp_username needs smtp_starttls: a password must not cross "
                             "the network in clear text (only a loopback relay is exempt)")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked ``Secure`` when tokenry is reached over HTTPS."""
        return self.base_url.lower().startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    def resolved_redis_prefix(self) -> str:
        """Keys of one installation: the database (and PostgreSQL schema) it serves, hashed,
        unless ``redis_prefix`` names it."""
        if self.redis_prefix:
            return self.redis_prefix
        database = make_url(self.database_url).render_as_string(hide_password=True)
        return f"tokenry:{hashlib.sha256(database.encode()).hexdigest()[:16]}:"

    def resolved_secret_key_file(self) -> Path:
        """Where a generated server secret lives: next to a SQLite database, else the cwd."""
        if self.secret_key_file is not None:
            return self.secret_key_file
        database = make_url(self.database_url).database
        if self.is_sqlite and database and database != ":memory:":
            return Path(database).resolve().parent / "tokenry.secret"
        return Path.cwd() / "tokenry.secret"


def load_settings(**overrides: Any) -> Settings:
    env_file = os.environ.get("TOKENRY_SETTINGS_FILE", "tokenry.env")
    kwargs: dict[str, Any] = dict(overrides)
    if Path(env_file).is_file():
        kwargs["_env_file"] = env_file
    return Settings(**kwargs)
