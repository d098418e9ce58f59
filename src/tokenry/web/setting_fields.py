"""How each account setting appears on ``/admin/settings``: its label, hint and input type.

The names, types, ranges and validation stay in ``tokenry.domain.settings``; this module only
says how a form shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokenry.domain.settings import GROUPS, SECRET_SETTINGS, setting_range

TITLES = {
    "api": "API access",
    "governance": "Governance",
    "notifications": "Notifications",
    "instance": "Instance",
    "oauth": "OAuth",
}
TEXT = {
    "token_access": ("Token access", "API requests may authenticate with an API token."),
    "password_access": ("Password access",
                        "API requests may authenticate with an email and password."),
    "require_request": ("Require a request",
                        "Admins create tokens only through an approved request or exception."),
    "max_request_lifetime_days": ("Longest token lifetime", "days a requested token may live"),
    "pending_request_max_age_days": ("Pending request age limit",
                                     "days before an undecided request is closed"),
    "delivery_link_hours": ("Delivery link lifetime", "hours a one-time token link works"),
    "reminder_days": ("Expiry reminders", "days before expiry, comma-separated, e.g. 7,1"),
    "expiry_grace_days": ("Expiry grace", "days an expired token is kept before deletion"),
    "inactivity_days": ("Inactivity limit", "days unused before deactivation; 0 turns it off"),
    "inactivity_warning_days": ("Inactivity warning",
                                "days of warning before that; 0 turns it off"),
    "deactivated_retention_days": ("Deactivated token retention",
                                   "days before clean-up; 0 turns it off"),
    "extension_grace_hours": ("Extension grace", "hours to pick up an extended token"),
    "approval_reminder_days": ("Approval reminder", "days before reminding an approver; "
                               "0 turns it off"),
    "allow_personal_tokens": ("Allow personal tokens", "requests for a person's own token"),
    "allow_automation_tokens": ("Allow automation tokens", "requests for a service's token"),
    "allow_target_tokens": ("Allow target tokens", "requests for a token bound to a user"),
    "weekly_compliance_report": ("Weekly compliance report", "e-mailed to admins"),
    "invitation_hours": ("Invitation link lifetime", "hours a link to set a password works"),
    "rate_limit_per_minute": ("API rate limit", "authenticated API requests per minute for "
                              "the whole account, per node"),
    "notify_email": ("E-mail notifications", "send notifications and links by e-mail"),
    "slack_webhook_url": ("Slack webhook URL", "a channel for announcements; no secrets"),
    "slack_bot_token": ("Slack bot token", "sends one-time links by direct message"),
    "webhook_url": ("Webhook URL", "receives every event as signed JSON"),
    "webhook_secret": ("Webhook secret", "signs the webhook's requests"),
    "display_name": ("Display name", "shown in the header and in every message"),
    "base_url": ("Base URL", "the address people open; links in messages start with it"),
    "mail_from": ("Mail sender", "the From address of e-mails"),
    "allowed_scopes": ("Allowed scopes", "the most any token or client may reach, "
                       "space-separated (read users:write ...); empty: no limit"),
    "integrations_allowed": ("Allow integrations", "OAuth clients may be created; off for "
                             "an instance that must have none (US Government)"),
    "integration_bot": ("Integration bot", "the service admin's email; clients are then "
                        "created only by signing in as it"),
    "oauth_access_token_minutes": ("OAuth access token lifetime",
                                   "minutes, for clients that set none of their own"),
    "oauth_refresh_token_days": ("OAuth refresh token lifetime",
                                 "days, for clients that set none of their own"),
}


@dataclass(frozen=True, slots=True)
class SettingField:
    name: str
    label: str
    hint: str
    kind: str  # checkbox, number, text, url, secret
    value: Any
    low: int | None = None
    high: int | None = None


def _kind(name: str, value: Any) -> str:
    if name in SECRET_SETTINGS:
        return "secret"
    if isinstance(value, bool):
        return "checkbox"
    if isinstance(value, int):
        return "number"
    return "url" if name.endswith("_url") else "text"


def form_fields(group: str, values: dict[str, Any],
                typed: dict[str, Any] | None = None) -> list[SettingField]:
    """The fields of one group, in order, with the values to show (secrets: set or not);
    ``typed`` holds what was submitted, shown again beside its errors."""
    fields = []
    for name in GROUPS[group]:
        # a typed secret is never sent back to the browser
        value = values[name] if name in SECRET_SETTINGS else (typed or {}).get(name,
                                                                                values[name])
        if isinstance(value, list | tuple):
            value = ",".join(str(day) for day in value)
        label, hint = TEXT.get(name, (name.replace("_", " ").capitalize(), ""))
        low, high = setting_range(name) or (None, None)
        fields.append(SettingField(name, label, hint, _kind(name, values[name]), value,
                                   low, high))
    return fields
