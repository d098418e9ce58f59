"""The access-request state machine and its separation-of-duties rules.

submitted -> manager_approved -> approved -> issued -> delivered -> expired | revoked
A pending request (submitted, manager_approved) may instead be denied or cancelled, and is
closed as denied when nobody decides in time. Provisioner approval issues the token in the
same transaction, so ``approved`` is passed through at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from tokenry.domain import oauth
from tokenry.domain import scopes as scope_rules
from tokenry.domain.errors import Conflict, Forbidden, Invalid
from tokenry.domain.text import LONG_TEXT, check_text


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    MANAGER_APPROVED = "manager_approved"
    APPROVED = "approved"
    ISSUED = "issued"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    REVOKED = "revoked"
    DENIED = "denied"
    CANCELLED = "cancelled"


class RequestKind(StrEnum):
    """What a request asks for: an API token (scoped or not), or an OAuth integration, a
    client created as the account's Integration bot with exactly the approved scopes."""

    API_TOKEN = "api_token"  # noqa: S105 (a kind, not a secret)
    INTEGRATION = "integration"

    @property
    def label(self) -> str:
        """How messages and pages name what the request asks for."""
        return "API token" if self is RequestKind.API_TOKEN else "integration"


S = RequestState
PENDING = frozenset({S.SUBMITTED, S.MANAGER_APPROVED})
LIVE = frozenset({S.ISSUED, S.DELIVERED})
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.SUBMITTED: frozenset({S.MANAGER_APPROVED, S.DENIED, S.CANCELLED}),
    S.MANAGER_APPROVED: frozenset({S.APPROVED, S.DENIED, S.CANCELLED}),
    S.APPROVED: frozenset({S.ISSUED}),
    S.ISSUED: frozenset({S.DELIVERED, S.EXPIRED, S.REVOKED}),
    S.DELIVERED: frozenset({S.EXPIRED, S.REVOKED}),
}
ADMIN_NOT_REQUIRED = "admin level not required"
ADMIN_NOT_REQUIRED_ADVICE = (
    "An admin API token is not needed for this use case: use password (basic) "
    "authentication with your own account instead."
)
STALE_REASON = "closed automatically: no decision within the allowed time"
REQUIRED_FIELDS = ("service_name", "purpose", "use_case", "removal_date")
TEXT_LIMITS = {"service_name": 200, "purpose": LONG_TEXT, "use_case": LONG_TEXT,
               "admin_justification": LONG_TEXT, "for_email": 254}


def check_transition(current: str, target: RequestState) -> None:
    """Refuse a transition the current state does not allow (a stale or repeated decision)."""
    allowed = TRANSITIONS.get(RequestState(current), frozenset())
    if target not in allowed:
        raise Conflict(f"This request is {current}; it cannot become {target.value}.")


def validate_submission(fields: dict[str, object], *, today: date,
                        max_lifetime_days: int) -> date:
    """Every required field present, the removal date in range. Returns the removal date."""
    missing = [name for name in REQUIRED_FIELDS
               if fields.get(name) is None or (isinstance(fields.get(name), str)
                                               and not str(fields.get(name)).strip())]
    details = {name: ["is required"] for name in missing}
    if fields.get("admin_required") and not str(fields.get("admin_justification") or "").strip():
        details["admin_justification"] = ["is required when admin level is required"]
    if missing:  # every missing field at once, so a form can mark each of them
        raise Invalid(f"Missing required field(s): {', '.join(details)}", details,
                      blank=list(details))
    for name, limit in TEXT_LIMITS.items():
        if isinstance(fields.get(name), str):
            check_text(str(fields[name]), limit=limit, field=name)
    removal = fields["removal_date"]
    if not isinstance(removal, date) or isinstance(removal, datetime):
        raise Invalid.field("removal_date", "must be a date (YYYY-MM-DD)")
    if removal <= today:
        raise Invalid.field("removal_date", "must be in the future")
    if removal > today + timedelta(days=max_lifetime_days):
        raise Invalid.field("removal_date",
                            f"must be within {max_lifetime_days} days (the account's maximum)")
    if fields.get("admin_required") and not str(fields.get("admin_justification") or "").strip():
        raise Invalid.missing("admin_justification", "is required when admin level is required")
    return removal


def validate_kind(kind: str | None) -> RequestKind:
    if not kind:
        return RequestKind.API_TOKEN
    try:
        return RequestKind(kind)
    except ValueError:
        raise Invalid.field("kind", "use api_token or integration") from None


@dataclass(frozen=True, slots=True)
class Asked:
    """What a request asks to be issued, checked: its kind, scopes and client settings."""

    kind: RequestKind
    scopes: list[str] | None  # canonical; None: an unscoped API token
    client_kind: str | None = None
    redirect_uris: list[str] | None = None


def validate_asked(kind: str | None, scopes: list[str] | str | None, client_kind: str | None,
                   redirect_uris: list[str] | None, *, ceiling: Sequence[str] | None) -> Asked:
    """An API token may ask for scopes; an integration must, and names its client kind
    (confidential by default) and redirect URIs (a public client needs one, for the code
    flow). Every scope must lie within the account's ceiling."""
    asked = validate_kind(kind)
    canonical = scope_rules.normalise(scopes, field="scopes")
    if asked == RequestKind.INTEGRATION and canonical is None:
        raise Invalid.missing("scopes", "an integration request names the scopes it needs "
                              "(for example tickets:read users:write)")
    if canonical is not None:
        over = scope_rules.beyond(canonical, ceiling)
        if over:
            raise Invalid.field("scopes", "beyond what this account allows: " + " ".join(over))
    if asked == RequestKind.API_TOKEN:
        if client_kind or redirect_uris:
            field = "client_kind" if client_kind else "redirect_uris"
            raise Invalid.field(field, "only an integration request has a client kind and "
                                "redirect URIs")
        return Asked(asked, canonical)
    chosen = oauth.validate_kind(client_kind or None, field="client_kind")
    uris = oauth.validate_redirect_uris(redirect_uris, field="redirect_uris")
    if chosen == oauth.PUBLIC and not uris:
        raise Invalid.missing("redirect_uris", "a public client signs people in through the "
                              "authorization code flow, which needs a redirect URI")
    return Asked(asked, canonical, chosen, uris)


def check_integrations(*, allowed: bool, bot: str) -> None:
    """An account takes integration requests only when it allows integrations and names the
    Integration bot their clients are created as."""
    if not allowed:
        raise Forbidden("This instance does not allow integrations (the account setting "
                        "integrations_allowed is off), so no integration can be requested "
                        "or issued.")
    if not bot:
        raise Conflict("This account has no Integration bot, the user integration clients "
                       "are created as. An admin sets it (account setting integration_bot) "
                       "first.")


def basic_auth_advice(*, password_access: bool, admins: list[str]) -> str:
    """What to use instead of an admin token, as it is true for this account today."""
    if password_access:
        return ADMIN_NOT_REQUIRED_ADVICE
    who = ", ".join(admins[:5]) or "an admin of this account"
    return (f"{ADMIN_NOT_REQUIRED_ADVICE} Password access is off for this account; {who} "
            "can turn it on (account setting password_access).")


def expiry_of(removal_date: date) -> datetime:
    """A token lives until the end of its removal date (UTC)."""
    from datetime import UTC

    return datetime.combine(removal_date, time(23, 59, 59), tzinfo=UTC)


def check_holder(*, holder_id: int, requester_manager_id: int | None,
                 holder_can_sign_in: bool) -> None:
    """Who a token may be requested for: someone who can sign in, and not the person who
    must approve the request (the requester's manager)."""
    if not holder_can_sign_in:
        raise Invalid.field("for_email", "that user is suspended or not verified")
    if holder_id == requester_manager_id:
        raise Invalid.field("for_email", "a request for your manager must be filed by someone "
                            "they do not manage the approval of; your manager approves it")


def check_manager(*, actor_id: int, requester_id: int, holder_id: int,
                  requester_manager_id: int | None, verb: str = "approve") -> None:
    if actor_id in (requester_id, holder_id):
        raise Forbidden(f"Nobody can {verb} their own request.")
    if requester_manager_id != actor_id:
        raise Forbidden(f"This request waits for the requester's manager; only they can "
                        f"{verb} it at this stage.")


def check_provisioner(*, actor_id: int, is_provisioner: bool, requester_id: int,
                      holder_id: int, manager_id: int | None, verb: str = "approve") -> None:
    if not is_provisioner:
        raise Forbidden(f"This request waits for a provisioner; only a provisioner of this "
                        f"account can {verb} it at this stage.")
    if actor_id in (requester_id, holder_id):
        raise Forbidden(f"Nobody can {verb} their own request; another provisioner must.")
    if actor_id == manager_id:
        raise Forbidden(f"You approved this request as the manager, so another provisioner "
                        f"must {verb} it.")


def check_can_decide(*, actor_id: int, state: str, requester_id: int, holder_id: int,
                     requester_manager_id: int | None, manager_id: int | None,
                     is_provisioner: bool) -> None:
    """Denial: by the manager at the first stage, a provisioner at the second."""
    if state == S.SUBMITTED:
        check_manager(actor_id=actor_id, requester_id=requester_id, holder_id=holder_id,
                      requester_manager_id=requester_manager_id, verb="deny")
    else:
        check_provisioner(actor_id=actor_id, is_provisioner=is_provisioner,
                          requester_id=requester_id, holder_id=holder_id, manager_id=manager_id,
                          verb="deny")


def stage_not_open(state: str, stage: str) -> str:
    """Why the decision the caller meant to make is not open, and what the request waits for."""
    if state == S.SUBMITTED:
        return (f"This request still waits for the manager's approval; the {stage} decision "
                "comes after it.")
    if state == S.MANAGER_APPROVED:
        return ("The manager already approved this request; it now waits for a provisioner.")
    return f"This request is {state}; it no longer waits for a {stage} decision."


def check_can_cancel(*, actor_id: int, requester_id: int, holder_id: int) -> None:
    if actor_id not in (requester_id, holder_id):
        raise Forbidden("Only the requester can cancel this request.")


def validate_denial_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid.missing("reason", "a reason is required to deny a request")
    return check_text(text, limit=1000, field="reason")


def denial_message(reason: str) -> str:
    if reason.strip().lower() == ADMIN_NOT_REQUIRED:
        return f"{reason}. {ADMIN_NOT_REQUIRED_ADVICE}"
    return reason
