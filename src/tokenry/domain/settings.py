"""Per-account settings: their names, types, defaults and validation, in one place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tokenry.domain.errors import Invalid
from tokenry.domain.scopes import normalise
from tokenry.domain.text import check_text

SECRET_SETTINGS = frozenset({"webhook_secret", "slack_bot_token"})  # write-only: set or not
GROUPS = {
    "api": ("token_access", "password_access", "require_request"),
    "governance": (
        "max_request_lifetime_days", "pending_request_max_age_days", "delivery_link_hours",
        "reminder_days", "expiry_grace_days", "inactivity_days", "inactivity_warning_days",
        "deactivated_retention_days", "extension_grace_hours", "approval_reminder_days",
        "allow_personal_tokens", "allow_automation_tokens", "allow_target_tokens",
        "weekly_compliance_report", "invitation_hours", "rate_limit_per_minute",
        "allowed_scopes",
    ),
    "notifications": ("notify_email", "slack_webhook_url", "slack_bot_token", "webhook_url",
                      "webhook_secret"),
    "instance": ("display_name", "base_url", "mail_from"),
    "oauth": ("integrations_allowed", "integration_bot", "oauth_access_token_minutes",
              "oauth_refresh_token_days"),
}
_RANGES = {
    "max_request_lifetime_days": (1, 3650),
    "pending_request_max_age_days": (1, 365),
    "delivery_link_hours": (1, 24 * 30),
    "expiry_grace_days": (0, 365),
    "inactivity_days": (0, 3650),
    "deactivated_retention_days": (0, 3650),
    "extension_grace_hours": (0, 24 * 30),
    "inactivity_warning_days": (0, 365),
    "approval_reminder_days": (0, 365),
    "invitation_hours": (1, 24 * 30),
    "rate_limit_per_minute": (1, 1_000_000),
    "oauth_access_token_minutes": (5, 24 * 60),
    "oauth_refresh_token_days": (1, 365),
}


@dataclass(frozen=True, slots=True)
class AccountSettings:
    token_access: bool = True
    password_access: bool = False
    require_request: bool = False  # on: admins create tokens only through a request/exception
    # governance policy
    max_request_lifetime_days: int = 365
    pending_request_max_age_days: int = 14
    delivery_link_hours: int = 72
    reminder_days: tuple[int, ...] = field(default=(7, 1))
    expiry_grace_days: int = 7
    inactivity_days: int = 30  # 0 turns the inactivity rule off
    inactivity_warning_days: int = 7  # warn this long before; 0 turns the warning off
    deactivated_retention_days: int = 60  # 0 turns the clean-up off
    extension_grace_hours: int = 24
    approval_reminder_days: int = 2  # remind the approver after this long; 0 turns it off
    allow_personal_tokens: bool = True
    allow_automation_tokens: bool = True
    allow_target_tokens: bool = True
    weekly_compliance_report: bool = True
    invitation_hours: int = 72  # how long a link to set a first password stays valid
    rate_limit_per_minute: int = 6000  # authenticated API requests per account and minute
    # the ceiling for every credential of the account, space-separated; empty: no ceiling
    allowed_scopes: str = ""
    # notifications
    notify_email: bool = True
    slack_webhook_url: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    slack_bot_token: str = ""  # Slack Web API bot token: delivery links by direct message
    # this instance as people see it (two instances must never be confused)
    display_name: str = ""  # default: the account's name
    base_url: str = ""  # default: TOKENRY_BASE_URL
    mail_from: str = ""  # default: TOKENRY_SMTP_FROM
    # OAuth lifetimes for clients that set none of their own
    oauth_access_token_minutes: int = 60
    oauth_refresh_token_days: int = 30
    # Integrations (OAuth clients): off for an instance that must have none, such as a US
    # Government instance; when a bot is named, clients are created only by signing in as it.
    integrations_allowed: bool = True
    integration_bot: str = ""  # the email of the account's Integration bot user

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> AccountSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: coerce(k, v) for k, v in stored.items() if k in known})

    def as_dict(self, *, reveal_secrets: bool = False) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["reminder_days"] = list(self.reminder_days)
        if not reveal_secrets:
            for name in SECRET_SETTINGS:
                values[name] = bool(values[name])
        return values

    def grouped(self) -> dict[str, dict[str, Any]]:
        values = self.as_dict()
        return {group: {k: values[k] for k in keys} for group, keys in GROUPS.items()}

    def changed(self, updates: Mapping[str, Any]) -> AccountSettings:
        return replace(self, **{k: coerce(k, v) for k, v in updates.items()})

    @property
    def scope_ceiling(self) -> tuple[str, ...] | None:
        return tuple(self.allowed_scopes.split()) if self.allowed_scopes else None


# Zendesk's own names in the ``api`` group, and the setting each one is. Zendesk sends the two
# switches as the strings "true" and "false"; accepted_api_agreement is always true here.
ZENDESK_API = {"api_token_access": "token_access", "api_password_access": "password_access"}
ZENDESK_READ_ONLY = frozenset({"accepted_api_agreement"})
# Agents may read these groups, as they may read Zendesk's account settings; the governance
# policy and the notification destinations are for admins.
AGENT_GROUPS = ("api", "instance")


def zendesk_grouped(settings: AccountSettings, groups: tuple[str, ...] = tuple(GROUPS)
                    ) -> dict[str, dict[str, Any]]:
    """The settings as ``GET /api/v2/account/settings`` answers: Zendesk's keys and types in
    ``api`` (tokenry's ``require_request`` beside them), tokenry's own groups after it."""
    grouped = {name: values for name, values in settings.grouped().items() if name in groups}
    if "api" in grouped:
        api = grouped["api"]
        grouped["api"] = {
            **{zendesk: "true" if api.pop(own) else "false"
               for zendesk, own in ZENDESK_API.items()},
            "accepted_api_agreement": True, **api}
    return grouped


def flatten(grouped: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``{"api": {"api_token_access": "false"}}`` to ``{"token_access": "false"}``.

    As Zendesk does, what is not a setting is left out rather than refused: the second value
    names each removed parameter (``settings.api.teleport``) for the caller's warning header.
    tokenry's own names (``token_access``) are accepted in ``api`` as well as Zendesk's.
    """
    flat: dict[str, Any] = {}
    removed: list[str] = []
    for group, values in grouped.items():
        members = GROUPS.get(group)
        if members is None or not isinstance(values, Mapping):
            removed.append(f"settings.{group}")
            continue
        for key, value in values.items():
            name = ZENDESK_API.get(key, key) if group == "api" else key
            if group == "api" and key in ZENDESK_READ_ONLY:
                continue
            if name not in members:
                removed.append(f"settings.{group}.{key}")
                continue
            flat[name] = value
    return flat, removed


def audit_value(key: str, value: Any) -> Any:
    """What the audit log may record of a setting's value (never a secret)."""
    if key in SECRET_SETTINGS:
        return "(set)" if value else "(empty)"
    return list(value) if isinstance(value, tuple) else value


def setting_range(key: str) -> tuple[int, int] | None:
    """The allowed range of a whole-number setting (for forms); None for other settings."""
    return _RANGES.get(key)


_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


_TYPES = {f.name: str(f.type) for f in fields(AccountSettings)}


def check_known(key: str) -> str:
    """The setting's type name; an unknown key is refused with the list of known ones."""
    kind = _TYPES.get(key)
    if kind is None:
        raise Invalid.field(key, f"unknown setting; known settings: {', '.join(sorted(_TYPES))}")
    return kind


def coerce(key: str, value: Any) -> Any:
    """Validate one setting; strings such as ``on``/``off`` and ``7,1`` are accepted for the CLI."""
    kind = check_known(key)
    if key == "allowed_scopes":
        return _scope_ceiling(value)
    if kind == "bool":
        return _boolean(key, value)
    if kind == "int":
        return _integer(key, value)
    if kind.startswith("tuple"):
        return _day_list(key, value)
    return _text(key, value)


def _scope_ceiling(value: Any) -> str:
    """Scopes as a list or space-separated, kept canonical; empty (or null) lifts the
    ceiling."""
    if value is None or (isinstance(value, str | list) and not value):
        return ""
    if not isinstance(value, str | list):
        raise Invalid.field("allowed_scopes", "must be scopes, space-separated or a list")
    return " ".join(normalise(value, field="allowed_scopes") or [])


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise Invalid.field(key, "must be true or false")


def _integer(key: str, value: Any) -> int:
    # str.isdigit() accepts "²" and other digits int() refuses: only ASCII digits count
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,6}", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid.field(key, "must be a whole number")
    low, high = _RANGES[key]
    if not low <= value <= high:
        raise Invalid.field(key, f"must be between {low} and {high}")
    return value


def _day_list(key: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    if not isinstance(value, list | tuple):
        raise Invalid.field(key, "must be a list of days, e.g. 7,1")
    if not all((isinstance(v, int) and not isinstance(v, bool))
               or (isinstance(v, str) and re.fullmatch(r"[0-9]{1,3}", v)) for v in value):
        raise Invalid.field(key, "must be a list of whole numbers of days")
    days = sorted({int(v) for v in value}, reverse=True)
    if len(days) != len(value) or any(not 1 <= d <= 365 for d in days) or len(days) > 10:
        raise Invalid.field(key, "must be up to 10 distinct days between 1 and 365")
    return tuple(days)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid.field(key, "must be text")
    text = check_text(value.strip(), limit=2000, field=key)
    if key.endswith("_url") and text and not text.startswith(("http://", "https://")):
        raise Invalid.field(key, "must be an http:// or https:// URL")
    if len(text) > 2000:
        raise Invalid.field(key, "is too long")
    return text
