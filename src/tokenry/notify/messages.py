"""The words of every notification. None carries a token; the delivery link goes only to
private channels (the holder's e-mail and Slack direct message)."""

from __future__ import annotations

from datetime import datetime

from tokenry.domain.access_requests import RequestKind
from tokenry.domain.timefmt import iso
from tokenry.notify.outbox import Attachment, Message
from tokenry.storage.models import AccessRequest, ApiToken, OAuthClient, User


def _request_data(request: AccessRequest, link: str) -> dict[str, object]:
    return {"request_id": request.id, "request_url": link, "state": request.state,
            "kind": request.kind, "service_name": request.service_name,
            "removal_date": request.removal_date.isoformat()}


def _asks(request: AccessRequest) -> str:
    """What the request asks for, as its messages name it: 'API token' or 'integration'."""
    return RequestKind(request.kind).label


def _scopes_line(request: AccessRequest) -> str:
    if request.kind == RequestKind.INTEGRATION:
        uris = ", ".join(request.redirect_uris or []) or "none"
        return (f"Integration: a {request.client_kind} OAuth client with scopes "
                f"{' '.join(request.scopes or [])}; redirect URIs: {uris}\n")
    return f"Scopes: {' '.join(request.scopes)}\n" if request.scopes else ""


def review(request: AccessRequest, holder: User, link: str) -> str:
    """What a reviewer must judge, in every message that asks for a decision."""
    admin = (f"required: {request.admin_justification}" if request.admin_required
             else "not required")
    return (f"Holder: {holder.name} ({holder.email})\nService: {request.service_name}\n"
            f"Purpose: {request.purpose}\nUse case: {request.use_case}\n"
            f"{_scopes_line(request)}Admin level: {admin}\nRemoval date: "
            f"{request.removal_date}\nReview it: {link}")


def submitted(request: AccessRequest, link: str, requester: User, holder: User) -> Message:
    return Message(
        "request.submitted", f"request:{request.id}:submitted",
        f"{_asks(request)} request #{request.id} needs your approval",
        f"{requester.name} asks for an admin {_asks(request)}. As their manager, approve or deny "
        f"it.\n{review(request, holder, link)}",
        _request_data(request, link))


def manager_approved(request: AccessRequest, link: str, manager: User,
                     holder: User) -> Message:
    return Message(
        "request.manager_approved", f"request:{request.id}:manager_approved",
        f"{_asks(request)} request #{request.id} is ready for provisioning",
        f"{manager.name} approved request #{request.id}. A provisioner's review is needed: "
        f"approve (which issues the {_asks(request)}) or deny it.\n{review(request, holder, link)}",
        _request_data(request, link))


def pending_reminder(request: AccessRequest, link: str, holder: User, *,
                     closes_on: str | None = None) -> Message:
    """A request still waits for the recipient's decision; ``closes_on`` when it is its last
    day before it closes by itself."""
    kind = "closing" if closes_on else "reminder"
    waits = "the manager's approval" if request.state == "submitted" else "a provisioner"
    when = (f"It closes by itself on {closes_on} unless someone decides."
            if closes_on else "It is still waiting.")
    return Message(
        f"request.{kind}", f"request:{request.id}:{request.state}:{kind}",
        f"Reminder: {_asks(request)} request #{request.id} waits for your decision",
        f"Request #{request.id} waits for {waits}. {when}\n{review(request, holder, link)}",
        _request_data(request, link))


def decided(request: AccessRequest, link: str, outcome: str, detail: str = "") -> Message:
    text = (f"Your {_asks(request)} request #{request.id} ({request.service_name}) was "
            f"{outcome}.")
    return Message(f"request.{outcome}", f"request:{request.id}:{outcome}",
                   f"{_asks(request)} request #{request.id} {outcome}",
                   f"{text} {detail}".strip() + f"\n{link}", _request_data(request, link))


def delivery_link(request: AccessRequest, link: str, url: str, expires_at: datetime, *,
                  delivery_id: int) -> Message:
    """One message per delivery: a re-sent link is a new message, never taken for a repeat."""
    return Message(
        "delivery.link", f"request:{request.id}:delivery:{delivery_id}",
        f"Your {_secret_of(request)} for request #{request.id} is ready",
        f"Your {_secret_of(request)} for {request.service_name} is ready. Open the one-time "
        f"link sent to you privately before {iso(expires_at)}; it works once.",
        _request_data(request, link) | {"expires_at": iso(expires_at)},
        private=f"One-time link: {url}")


def _secret_of(request: AccessRequest) -> str:
    return "integration's client secret" if request.kind == RequestKind.INTEGRATION \
        else "API token"


def integration_ready(request: AccessRequest, link: str, identifier: str) -> Message:
    """A public client has no secret: its identifier is all the holder needs."""
    return Message(
        "delivery.integration", f"request:{request.id}:integration:{identifier}",
        f"Your integration for request #{request.id} is ready",
        f"Your integration for {request.service_name} is ready: OAuth client "
        f"{identifier!r}, a public client (it has no secret; sign in through the "
        f"authorization code flow with PKCE).\n{link}",
        _request_data(request, link) | {"client_identifier": identifier})


def delivery_lapsed(request: AccessRequest, link: str, what: str, delivery_id: int,
                    data: dict[str, object]) -> Message:
    """``what`` was switched off (``token tkry_ab******``, ``OAuth client request-3-sync``);
    keyed by the delivery, so a re-sent link that lapses too is told again."""
    return Message(
        "delivery.expired_unread", f"request:{request.id}:delivery_lapsed:{delivery_id}",
        f"Delivery link for request #{request.id} expired unread",
        f"Nobody opened the delivery link for request #{request.id}; {what} "
        f"was deactivated. A provisioner can re-send it, or file a new request if it is still "
        f"needed.\n{link}",
        _request_data(request, link) | data)


def token_event(token: ApiToken, event: str, key_suffix: str, headline: str,
                when: datetime | None) -> Message:
    """expiring soon / expired / deleted, about one token."""
    return Message(
        f"token.{event}", f"token:{token.id}:{key_suffix}",
        f"API token {token.description or token.display}: {headline}",
        f"API token {token.display} ({token.description}) {headline}"
        f"{f' ({iso(when)})' if when else ''}.",
        {"token_id": token.id, "token": token.display, "description": token.description,
         "expires_at": iso(token.expires_at)})


def client_event(client: OAuthClient, event: str, key_suffix: str, headline: str,
                 when: datetime | None) -> Message:
    """expiring soon / expired / deleted, about one integration's OAuth client. Keyed by the
    removal date too: an extension keeps the client, and its new date is warned of again."""
    ends = client.expires_at.date().isoformat() if client.expires_at else "never"
    return Message(
        f"oauth_client.{event}", f"oauth_client:{client.id}:{ends}:{key_suffix}",
        f"OAuth client {client.identifier}: {headline}",
        f"OAuth client {client.identifier} ({client.name}) {headline}"
        f"{f' ({iso(when)})' if when else ''}.",
        {"oauth_client_id": client.id, "identifier": client.identifier, "name": client.name,
         "access_request_id": client.access_request_id, "expires_at": iso(client.expires_at)})


def weekly_compliance(week: str, counts: dict[str, int], top: list[str], link: str) -> Message:
    """The weekly summary for provisioners: counts per finding and the first few items."""
    total = sum(counts.values())
    lines = [f"{name.replace('_', ' ')}: {count}" for name, count in counts.items() if count]
    body = (f"{total} finding{'s' if total != 1 else ''} this week."
            + ("\n" + "\n".join(lines) if lines else " Nothing needs review.")
            + ("\n\nFirst items:\n" + "\n".join(f"- {item}" for item in top) if top else "")
            + f"\n\nThe full report: {link}")
    return Message("report.compliance_weekly", f"compliance:{week}",
                   f"Weekly API token compliance report ({week}): {total} finding"
                   f"{'s' if total != 1 else ''}", body, {"week": week, "counts": counts})


def invitation(user: User, inviter: str, url: str, expires_at: datetime, *,
               invitation_id: int) -> Message:
    """The link with which a user sets their first password; to them alone."""
    return Message(
        "user.invited", f"user:{user.id}:invitation:{invitation_id}",
        "You are invited to the tokenry Admin Center",
        f"{inviter} invited you ({user.email}) to sign in to the tokenry Admin Center. Open "
        f"the one-time link sent to you privately before {iso(expires_at)} and choose a "
        "password.",
        {"user_id": user.id, "expires_at": iso(expires_at)},
        private=f"Set your password: {url}")


def audit_log_export(event_id: int, requester: User, count: int, summary: str,
                     file: Attachment) -> Message:
    """An export of the audit log. The file goes only to the requester's e-mail; a shared
    channel learns that an export happened, and a Slack direct message where it went."""
    events = f"{count:,} event{'s' if count != 1 else ''}"
    return Message(
        "audit_log.exported", f"audit_log:export:{event_id}",
        f"Audit log export: {events}",
        f"{requester.name} exported the audit log: {events} ({summary}).",
        {"audit_log_id": event_id, "count": count, "filters": summary,
         "filename": file.filename},
        private=f"The CSV file {file.filename} is attached to the e-mail sent to "
                f"{requester.email}.",
        attachment=file)
