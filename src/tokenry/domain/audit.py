"""Audit event vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DESTROY = "destroy"


class SourceType(StrEnum):
    API_TOKEN = "api_token"  # noqa: S105 - a resource name
    USER = "user"
    ACCOUNT = "account"
    ACCOUNT_SETTING = "account_setting"
