"""Audit event vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DESTROY = "destroy"
    SUBMIT = "submit"
    APPROVE = "approve"
    DENY = "deny"
    CANCEL = "cancel"
    EXPIRE = "expire"
    DELIVER = "deliver"
    RETRIEVE = "retrieve"
    RETRIEVE_REFUSED = "retrieve_refused"
    ROTATE = "rotate"
    RESEND = "resend"
    LOGIN = "login"
    INVITE = "invite"


class SourceType(StrEnum):
    API_TOKEN = "api_token"  # noqa: S105 - a resource name
    USER = "user"
    ACCOUNT = "account"
    ACCOUNT_SETTING = "account_setting"
    ACCESS_REQUEST = "access_request"
    DELIVERY = "delivery"
    CALENDAR_FEED = "calendar_feed"
    INVITATION = "invitation"
