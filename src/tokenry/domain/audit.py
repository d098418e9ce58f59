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
    API_TOKEN = "api_token"
    USER = "user"
    ACCOUNT = "account"
    ACCOUNT_SETTING = "account_setting"
