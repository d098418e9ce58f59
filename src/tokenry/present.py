"""The JSON shape of each resource, shared by the HTTP API and the CLI's ``--json``."""

from __future__ import annotations

from typing import Any

from tokenry.auth.records import UserRecord
from tokenry.domain.access_requests import denial_message
from tokenry.domain.audit import zendesk_action, zendesk_source_type
from tokenry.domain.timefmt import iso
from tokenry.operations.token_activity import Activity
from tokenry.storage.models import (
    AccessRequest,
    ApiToken,
    AuditEvent,
    OAuthClient,
    OAuthToken,
    User,
)


def token_json(token: ApiToken, *, secret: str | None = None,
               url: str | None = None) -> dict[str, Any]:
    """``secret`` is passed only by the create response: the one time the full token is shown.
    ``url`` is the resource's API address, which the HTTP API knows (the CLI has none)."""
    return {
        "id": token.id,
        "url": url,
        "description": token.description,
        "active": token.active,
        "token": secret if secret is not None else token.display,
        "created_at": iso(token.created_at),
        "updated_at": iso(token.updated_at),
        "last_used_at": iso(token.last_used_at),
        "last_used_from": (
            {"ip_address": token.last_used_ip, "user_agent": token.last_used_user_agent}
            if token.last_used_at else None
        ),
        "expires_at": iso(token.expires_at),
        "user_id": token.user_id,
        "created_by_id": token.created_by_id,
        "kind": token.kind,
        "access_request_id": token.access_request_id,
        "scopes": token.scopes,
    }


def oauth_client_json(client: OAuthClient, *, secret: str | None = None,
                      url: str | None = None) -> dict[str, Any]:
    """Zendesk's client; ``secret`` only when just made (create, generate_secret)."""
    return {
        "id": client.id, "url": url, "name": client.name, "identifier": client.identifier,
        "kind": client.kind, "redirect_uri": list(client.redirect_uris),
        "allowed_scopes": client.allowed_scopes,
        "secret": secret if secret is not None else client.secret_display,
        "user_id": client.user_id, "access_token_seconds": client.access_token_seconds,
        "refresh_token_seconds": client.refresh_token_seconds,
        "active": client.active, "expires_at": iso(client.expires_at),
        "access_request_id": client.access_request_id,
        "created_at": iso(client.created_at), "updated_at": iso(client.updated_at),
    }


def oauth_token_json(token: OAuthToken, *, url: str | None = None,
                     full_token: str | None = None,
                     refresh_token: str | None = None) -> dict[str, Any]:
    """Zendesk's token; the full access and refresh tokens only when just made."""
    body: dict[str, Any] = {
        "id": token.id, "url": url, "client_id": token.client_id, "user_id": token.user_id,
        "token": token.display,
        "refresh_token": refresh_token if refresh_token is not None else token.refresh_display,
        "scopes": list(token.scopes), "grant_type": token.grant_type,
        "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
        "refresh_token_expires_at": iso(token.refresh_expires_at),
        "revoked_at": iso(token.revoked_at), "used_at": iso(token.used_at),
    }
    if full_token is not None:
        body["full_token"] = full_token
    return body


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "verified": user.verified,
        "suspended": user.suspended,
        "manager_id": user.manager_id,
        "provisioner": user.provisioner,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }


def zendesk_user_json(user: User | UserRecord, url: str | None) -> dict[str, Any]:
    """A user as Zendesk's users API shows one. tokenry keeps no phone, photo, organisation,
    time zone or locale: those fields carry Zendesk's defaults (UTC, en-US) or null."""
    staff = user.role != "end-user"
    return {
        "id": user.id, "url": url, "name": user.name, "email": user.email,
        "created_at": iso(user.created_at), "updated_at": iso(user.updated_at),
        "time_zone": "UTC", "iana_time_zone": "Etc/UTC", "phone": None,
        "shared_phone_number": None, "photo": None, "locale_id": 1, "locale": "en-US",
        "organization_id": None, "role": user.role, "verified": user.verified,
        "external_id": None, "tags": [], "alias": "", "active": True, "shared": False,
        "shared_agent": False, "last_login_at": None, "two_factor_auth_enabled": None,
        "signature": "", "details": "", "notes": "", "role_type": None,
        "custom_role_id": None, "moderator": staff,
        "ticket_restriction": None if staff else "requested", "only_private_comments": False,
        "restricted_agent": False, "suspended": user.suspended, "default_group_id": None,
        "report_csv": user.role == "admin", "user_fields": {},
    }


# What Zendesk answers GET /api/v2/users/me with when the request carries no credentials.
ANONYMOUS_USER: dict[str, Any] = {
    "id": None, "url": None, "name": "Anonymous user", "email": "invalid@example.com",
    "created_at": None, "updated_at": None, "time_zone": "UTC", "iana_time_zone": "Etc/UTC",
    "phone": None, "shared_phone_number": None, "photo": None, "locale_id": 1,
    "locale": "en-US", "organization_id": None, "role": "end-user", "verified": False,
    "external_id": None, "tags": [], "alias": None, "active": True, "shared": False,
    "shared_agent": False, "last_login_at": None, "two_factor_auth_enabled": None,
    "signature": None, "details": None, "notes": None, "role_type": None,
    "custom_role_id": None, "moderator": False, "ticket_restriction": "requested",
    "only_private_comments": False, "restricted_agent": True, "suspended": False,
    "default_group_id": None, "report_csv": False, "user_fields": {},
}


def identity_user_json(user: UserRecord) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "verified": user.verified, "suspended": user.suspended}


def action_label(action: str) -> str:
    """``deactivate`` to ``Deactivated``: the audit action as the Admin Center words it."""
    special = {"submit": "Submitted", "deny": "Denied", "login": "Signed in",
               "retrieve_refused": "Retrieval refused", "resend": "Re-sent",
               "destroy": "Deleted"}
    if action in special:
        return special[action]
    if action.endswith("ed"):  # Zendesk's ``exported``
        return action.capitalize()
    return action.capitalize() + ("d" if action.endswith("e") else "ed")


def audit_json(event: AuditEvent, *, url: str | None = None) -> dict[str, Any]:
    """The event in Zendesk's vocabulary (``action``, ``source_type``), tokenry's finer action
    beside it as ``tokenry_action``. ``actor_name`` is the acting user's name (Zendesk's field);
    the label recorded at the time (an email, "tokenry scheduler") stands in when there is no
    such user."""
    action = zendesk_action(event.action)
    return {
        "id": event.id,
        "url": url,
        "action": action,
        "action_label": action_label(action),
        "tokenry_action": event.action,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name or event.actor_label,
        "source_type": zendesk_source_type(event.source_type),
        "source_id": event.source_id,
        "source_label": event.source_label,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "via": event.via,
        "credential": event.credential,
        "changes": event.changes,
        "change_description": event.change_description,
        "created_at": iso(event.created_at),
    }


def request_json(request: AccessRequest, link: str) -> dict[str, Any]:
    return {
        "id": request.id,
        "url": link,
        "state": request.state,
        "kind": request.kind,
        "requester_id": request.requester_id,
        "holder_id": request.holder_id,
        "service_name": request.service_name,
        "purpose": request.purpose,
        "use_case": request.use_case,
        "admin_required": request.admin_required,
        "admin_justification": request.admin_justification,
        "removal_date": request.removal_date.isoformat(),
        "scopes": request.scopes,
        "client_kind": request.client_kind,
        "redirect_uris": request.redirect_uris,
        "extends_request_id": request.extends_request_id,
        "manager_id": request.manager_id,
        "manager_decided_at": iso(request.manager_decided_at),
        "provisioner_id": request.provisioner_id,
        "provisioner_decided_at": iso(request.provisioner_decided_at),
        "denial_reason": request.denial_reason,
        "denial_message": denial_message(request.denial_reason) if request.denial_reason else None,
        "token_id": request.token_id,
        "oauth_client_id": request.oauth_client_id,
        "created_at": iso(request.created_at),
        "updated_at": iso(request.updated_at),
        "closed_at": iso(request.closed_at),
    }


def activity_json(found: Activity) -> dict[str, Any]:
    return {"period": found.period, "start": iso(found.start), "end": iso(found.end),
            "total": found.total,
            "series": [{"start": iso(start), "count": count} for start, count in found.series],
            "top_tokens": found.tokens, "top_callers": found.callers,
            "top_endpoints": found.endpoints}
