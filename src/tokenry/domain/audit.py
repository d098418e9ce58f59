"""Audit event vocabulary: tokenry's own actions, and how each reads in Zendesk's words.

tokenry records finer actions than Zendesk's audit log has (a deactivation, an approval, a
delivery link opened). The API shows every event in Zendesk's vocabulary, so a script written for
Zendesk's audit log understands it, and keeps tokenry's action beside it as an extra field.
"""

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
    EXPORT = "exported"  # Zendesk's word, as its audit log records an export
    REGENERATE_SECRET = "regenerate_secret"  # noqa: S105 - an action's name
    REVOKE = "revoke"
    REFRESH = "refresh"
    REUSE_DETECTED = "reuse_detected"


# Zendesk's audit log knows five actions; every tokenry action reads as one of them.
ZENDESK_ACTIONS = ("create", "update", "destroy", "login", "exported")
_AS_ZENDESK: dict[str, str] = {
    Action.CREATE: "create", Action.SUBMIT: "create", Action.INVITE: "create",
    Action.DELIVER: "create",
    Action.UPDATE: "update", Action.DEACTIVATE: "update", Action.REACTIVATE: "update",
    Action.APPROVE: "update", Action.DENY: "update", Action.CANCEL: "update",
    Action.EXPIRE: "update", Action.RETRIEVE: "update", Action.RETRIEVE_REFUSED: "update",
    Action.ROTATE: "update", Action.RESEND: "update",
    Action.REGENERATE_SECRET: "update", Action.REVOKE: "destroy", Action.REFRESH: "create",
    Action.REUSE_DETECTED: "update",
    Action.DESTROY: "destroy",
    Action.LOGIN: "login",
}


def zendesk_action(action: str) -> str:
    """The Zendesk action an event of tokenry's ``action`` shows as (``exported`` and the
    other actions both vocabularies share read as themselves)."""
    if action in _AS_ZENDESK:
        return _AS_ZENDESK[action]
    return action if action in ZENDESK_ACTIONS else "update"


def actions_reading_as(zendesk: str) -> frozenset[str]:
    """Every tokenry action that reads as Zendesk's ``zendesk`` action (for its filter)."""
    return frozenset({zendesk} | {mine for mine, theirs in _AS_ZENDESK.items()
                                  if theirs == zendesk})


class SourceType(StrEnum):
    API_TOKEN = "api_token"  # noqa: S105 - a resource name
    USER = "user"
    ACCOUNT = "account"
    ACCOUNT_SETTING = "account_setting"
    ACCESS_REQUEST = "access_request"
    DELIVERY = "delivery"
    CALENDAR_FEED = "calendar_feed"
    INVITATION = "invitation"
    AUDIT_LOG = "audit_log"
    OAUTH_CLIENT = "oauth_client"
    OAUTH_TOKEN = "oauth_token"  # noqa: S105 - a resource name


# Zendesk names its API token resource ``apitoken``; tokenry's other types are its own.
_ZENDESK_SOURCE_TYPES: dict[str, str] = {SourceType.API_TOKEN: "apitoken"}
_FROM_ZENDESK_SOURCE_TYPES = {theirs: mine for mine, theirs in _ZENDESK_SOURCE_TYPES.items()}


def zendesk_source_type(source_type: str) -> str:
    return _ZENDESK_SOURCE_TYPES.get(source_type, source_type)


def source_type_named(name: str) -> str:
    """tokenry's source type for a filter value in either vocabulary (``apitoken`` or
    ``api_token``)."""
    return _FROM_ZENDESK_SOURCE_TYPES.get(name, name)
