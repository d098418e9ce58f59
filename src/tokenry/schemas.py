"""The JSON bodies tokenry's HTTP API answers with, as pydantic models.

One definition serves two readers: the server's OpenAPI document (``tokenry.http.documented``
attaches them to every operation) and the client (``tokenry.client`` parses answers into
them), so the document and the client cannot drift apart. The server does not validate its
own answers through these models at run time; the test suite does (schemathesis's response
checks and the client's tests against a real server).

Every object is documented closed (``additionalProperties: false``), so a field the server
sends but this module does not name fails the tests. Reading is lenient: an unknown field is
ignored, so a client keeps working against a newer server. Fields that are always present but
may be null are required and ``Optional``; only fields that may be absent have a default.
This module imports nothing but pydantic.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

DateTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Date = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True,
                              json_schema_extra={"additionalProperties": False})


# -- errors -----------------------------------------------------------------------------------

class Unauthorized(Body):
    """401, Zendesk's body for any wrong or unusable credential (the cause is only logged)."""
    error: str = Field(examples=["Couldn't authenticate you"])


class Error(Body):
    """403 ``Forbidden``, 404 ``RecordNotFound`` or ``InvalidEndpoint``, 409 ``Conflict``."""
    error: str
    description: str


class FieldProblem(Body):
    description: str
    error: Literal["BlankValue", "InvalidValue"]


class RecordInvalid(Body):
    """422: ``details`` maps each field to its problems."""
    error: Literal["RecordInvalid"]
    description: str
    details: dict[str, list[FieldProblem]]


class TooManyRequests(Body):
    """429: ``TooManyRequests`` (failed authentication from one source) or
    ``APIRateLimitExceeded`` (the account's rate limit); ``Retry-After`` says when."""
    error: Literal["TooManyRequests", "APIRateLimitExceeded"]
    description: str


# -- lists ------------------------------------------------------------------------------------

class CursorMeta(Body):
    has_more: bool
    after_cursor: str | None
    before_cursor: str | None


class CursorLinks(Body):
    next: str | None
    prev: str | None


class Paged(Body):
    """Offset pagination answers ``next_page``, ``previous_page`` and ``count``; cursor
    pagination (``page[size]``, ``page[after]``, ``page[before]``) answers ``meta`` and
    ``links`` instead. Each list model adds its own key."""
    next_page: str | None = None
    previous_page: str | None = None
    count: int | None = None
    meta: CursorMeta | None = None
    links: CursorLinks | None = None

    def next_link(self) -> str | None:
        """The address of the next page, whichever pagination answered."""
        if self.links is not None:
            return self.links.next
        return self.next_page


# -- users ------------------------------------------------------------------------------------

class User(Body):
    """A user in Zendesk's shape. tokenry keeps no phone, photo, organisation, time zone or
    locale: those carry Zendesk's defaults or null. The anonymous user has a null ``id``."""
    id: int | None
    url: str | None
    name: str
    email: str
    created_at: DateTime | None
    updated_at: DateTime | None
    time_zone: str
    iana_time_zone: str
    phone: str | None
    shared_phone_number: bool | None
    photo: dict[str, Any] | None
    locale_id: int
    locale: str
    organization_id: int | None
    role: Literal["admin", "agent", "end-user"]
    verified: bool
    external_id: str | None
    tags: list[str]
    alias: str | None
    active: bool
    shared: bool
    shared_agent: bool
    last_login_at: DateTime | None
    two_factor_auth_enabled: bool | None
    signature: str | None
    details: str | None
    notes: str | None
    role_type: int | None
    custom_role_id: int | None
    moderator: bool
    ticket_restriction: str | None
    only_private_comments: bool
    restricted_agent: bool
    suspended: bool
    default_group_id: int | None
    report_csv: bool
    user_fields: dict[str, Any]


class UserBody(Body):
    user: User


class UserList(Paged):
    users: list[User]


# -- API tokens -------------------------------------------------------------------------------

class LastUsedFrom(Body):
    ip_address: str | None
    user_agent: str | None


class ApiToken(Body):
    """``token`` is the full secret only in the create answer; elsewhere ``tkry_3jdk****``.
    ``expires_at``, ``user_id``, ``kind``, ``access_request_id`` and the last use are
    tokenry's additions to Zendesk's token."""
    id: int
    url: str | None
    description: str
    active: bool
    token: str
    created_at: DateTime
    updated_at: DateTime
    last_used_at: DateTime | None
    last_used_from: LastUsedFrom | None
    expires_at: DateTime | None
    user_id: int | None
    created_by_id: int | None
    kind: str
    access_request_id: int | None
    scopes: list[str] | None = Field(
        description="tokenry: what the token may reach (null: its user's full power)")


class ApiTokenBody(Body):
    api_token: ApiToken


class ApiTokenList(Paged):
    api_tokens: list[ApiToken]
    users: list[User] | None = Field(None, description="With include_users=true only")


class ActivityPoint(Body):
    start: DateTime
    count: int


class TopToken(Body):
    token_id: int
    token: str
    description: str
    count: int


class TopCaller(Body):
    user_id: int
    email: str | None
    ip_address: str
    count: int


class TopEndpoint(Body):
    endpoint: str
    count: int


class Activity(Body):
    period: Literal["24h", "7d", "30d"]
    start: DateTime
    end: DateTime
    total: int
    series: list[ActivityPoint]
    top_tokens: list[TopToken]
    top_callers: list[TopCaller]
    top_endpoints: list[TopEndpoint]


class ActivityBody(Body):
    activity: Activity


# -- account settings -------------------------------------------------------------------------

TrueFalse = Literal["true", "false"]


class ApiSettings(Body):
    """Zendesk's keys and types, and tokenry's ``require_request`` beside them."""
    api_token_access: TrueFalse
    api_password_access: TrueFalse
    accepted_api_agreement: bool
    require_request: bool


class GovernanceSettings(Body):
    max_request_lifetime_days: int
    pending_request_max_age_days: int
    delivery_link_hours: int
    reminder_days: list[int]
    expiry_grace_days: int
    inactivity_days: int
    inactivity_warning_days: int
    deactivated_retention_days: int
    extension_grace_hours: int
    approval_reminder_days: int
    allow_personal_tokens: bool
    allow_automation_tokens: bool
    allow_target_tokens: bool
    weekly_compliance_report: bool
    invitation_hours: int
    rate_limit_per_minute: int
    allowed_scopes: str = Field(
        description="The ceiling for every token of the account, space-separated (\"\": none)")


class NotificationSettings(Body):
    """The two secrets are write-only: ``true`` when set."""
    notify_email: bool
    slack_webhook_url: str
    slack_bot_token: bool
    webhook_url: str
    webhook_secret: bool


class InstanceSettings(Body):
    display_name: str
    base_url: str
    mail_from: str


class OAuthSettings(Body):
    integrations_allowed: bool
    integration_bot: str = Field(description="The Integration bot's email (\"\": none)")
    oauth_access_token_minutes: int
    oauth_refresh_token_days: int


class AccountSettings(Body):
    """Agents see ``api`` and ``instance`` only."""
    api: ApiSettings
    governance: GovernanceSettings | None = None
    notifications: NotificationSettings | None = None
    instance: InstanceSettings
    oauth: OAuthSettings | None = None


class AccountSettingsBody(Body):
    settings: AccountSettings


# -- OAuth ------------------------------------------------------------------------------------

class OAuthClient(Body):
    """Zendesk's OAuth client. ``secret`` is the full secret only in the create and
    generate_secret answers (confidential clients); elsewhere ``tkryos_3jdk********`` or
    null. ``allowed_scopes``, the lifetimes, ``active``, ``expires_at`` and
    ``access_request_id`` are tokenry's: a client issued for an integration request lives
    until the request's removal date, then is switched off (``active`` false)."""
    id: int
    url: str | None
    name: str
    identifier: str
    kind: Literal["public", "confidential"]
    redirect_uri: list[str]
    allowed_scopes: list[str] | None
    secret: str | None
    user_id: int | None
    access_token_seconds: int | None
    refresh_token_seconds: int | None
    active: bool
    expires_at: DateTime | None
    access_request_id: int | None
    created_at: DateTime
    updated_at: DateTime


class OAuthClientBody(Body):
    client: OAuthClient


class OAuthClientList(Paged):
    clients: list[OAuthClient]


class OAuthToken(Body):
    """Zendesk's OAuth token: ``token`` truncated; ``full_token`` and ``refresh_token`` only
    in the create answer."""
    id: int
    url: str | None
    client_id: int
    user_id: int
    token: str
    full_token: str | None = None
    refresh_token: str | None
    scopes: list[str]
    grant_type: str
    created_at: DateTime
    expires_at: DateTime
    refresh_token_expires_at: DateTime | None
    revoked_at: DateTime | None
    used_at: DateTime | None = Field(description="The access token's last use, written "
                                     "every few seconds (Zendesk's used_at)")


class OAuthTokenBody(Body):
    token: OAuthToken


class OAuthTokenList(Paged):
    tokens: list[OAuthToken]


# -- audit log --------------------------------------------------------------------------------

class AuditLog(Body):
    """``actor_name`` is the acting user's name (or the label recorded then, such as "tokenry
    scheduler"). ``action`` and ``source_type`` are Zendesk's words (``apitoken``);
    ``tokenry_action`` carries tokenry's finer action (``deactivate``, ``approve``, ...);
    ``user_agent``, ``via``, ``credential`` and ``changes`` are tokenry's additions."""
    id: int
    url: str | None
    action: Literal["create", "update", "destroy", "login", "exported"]
    tokenry_action: str
    action_label: str
    actor_id: int | None
    actor_name: str
    source_type: str
    source_id: int | None
    source_label: str
    ip_address: str | None
    user_agent: str | None
    via: str
    credential: str
    changes: dict[str, Any]
    change_description: str
    created_at: DateTime


class AuditLogBody(Body):
    audit_log: AuditLog


class AuditLogExport(Body):
    """tokenry's answer to an export (Zendesk's 202 has no body): how many events the CSV
    file holds, the address it is e-mailed to, and the audit event that records it."""
    status: Literal["queued"]
    count: int
    recipient: str
    filename: str
    audit_log_id: int


class AuditLogExportBody(Body):
    audit_log_export: AuditLogExport


class AuditLogList(Paged):
    audit_logs: list[AuditLog]


# -- access requests and deliveries -----------------------------------------------------------

RequestState = Literal["submitted", "manager_approved", "approved", "issued", "delivered",
                       "expired", "revoked", "denied", "cancelled"]


class AccessRequest(Body):
    id: int
    url: str
    state: RequestState
    kind: Literal["api_token", "integration"]
    requester_id: int
    holder_id: int
    service_name: str
    purpose: str
    use_case: str
    admin_required: bool
    admin_justification: str
    removal_date: Date
    scopes: list[str] | None = Field(description="Canonical scopes asked for; null: an "
                                     "unscoped API token")
    client_kind: Literal["public", "confidential"] | None
    redirect_uris: list[str] | None
    extends_request_id: int | None
    manager_id: int | None
    manager_decided_at: DateTime | None
    provisioner_id: int | None
    provisioner_decided_at: DateTime | None
    denial_reason: str | None
    denial_message: str | None
    token_id: int | None
    oauth_client_id: int | None
    created_at: DateTime
    updated_at: DateTime
    closed_at: DateTime | None


class AccessRequestBody(Body):
    access_request: AccessRequest


class AccessRequestList(Paged):
    access_requests: list[AccessRequest]


class DeliveryStatus(Body):
    state: Literal["ready", "retrieved", "expired", "replaced"]
    holds: Literal["api_token", "client_secret"]
    expires_at: DateTime
    retrieved_at: DateTime | None
    request_id: int | None


class DeliveryStatusBody(Body):
    delivery: DeliveryStatus


class RetrievedToken(Body):
    """An API token's delivery has ``token`` and ``token_id``; an integration's has
    ``client_secret``, ``client_identifier`` and ``oauth_client_id``."""

    token: str | None = None
    token_id: int | None = None
    client_secret: str | None = None
    client_identifier: str | None = None
    oauth_client_id: int | None = None
    request_id: int | None


class RetrievedTokenBody(Body):
    delivery: RetrievedToken


class CalendarFeed(Body):
    url: str


class CalendarFeedBody(Body):
    calendar_feed: CalendarFeed


# -- reports, verification, health ------------------------------------------------------------

class Finding(Body):
    """One thing to question: an API token, an integration's OAuth client or a request."""
    category: Literal["unapproved", "nonstandard_name", "unused", "suspended_holder",
                      "unbound", "stale_request"]
    kind: Literal["api_token", "oauth_client", "access_request"]
    token_id: int | None
    oauth_client_id: int | None
    request_id: int | None
    name: str
    identifier: str = Field(description="A token's truncated form, a client's identifier or "
                                        "a request's number")
    scopes: list[str] | None = Field(description="null: unscoped")
    removal_date: str | None = Field(description="YYYY-MM-DD; null: none")
    state: str = Field(description="active, expired (past its removal date, not yet "
                                   "switched off), or a request's state")
    reason: str


class ComplianceReport(Body):
    generated_at: DateTime
    unused_days: int
    findings: list[Finding]
    counts: dict[str, int]


class ComplianceReportBody(Body):
    compliance: ComplianceReport


class VerifiedUser(Body):
    id: int
    email: str
    name: str
    role: Literal["admin", "agent", "end-user"]
    verified: bool
    suspended: bool


class VerifiedAccount(Body):
    id: int
    subdomain: str


class VerifiedToken(Body):
    """The API token or OAuth access token presented: ``id`` is in its own kind's table."""
    id: int
    kind: Literal["api_token", "oauth"]
    expires_at: DateTime | None = Field(description="When it stops working (null: never), so "
                                        "a caller's cache can end with it")


class Verification(Body):
    """Who the request's own credentials name; ``token`` is null for a password. ``method``
    is ``token`` (an API token), ``oauth`` (an OAuth access token) or ``password``."""
    user: VerifiedUser
    account: VerifiedAccount
    token: VerifiedToken | None
    method: Literal["token", "oauth", "password"]
    scopes: list[str] | None = Field(
        description="What the credential may reach (null: unscoped, its user's full power)")


class Health(Body):
    status: Literal["ok"]


class Readiness(Body):
    """Whether this node may take traffic; ``checks`` says ``ok`` or what is wrong for
    ``database``, ``schema`` and (on PostgreSQL) ``listener``."""
    status: Literal["ready", "unready"]
    checks: dict[str, str]
