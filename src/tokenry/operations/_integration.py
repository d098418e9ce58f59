"""Issuing an integration request: the provisioner's approval creates the OAuth client as the
account's Integration bot, with exactly the approved scopes, the standard name and the
request's removal date, and delivers its secret through a one-time link. An approved
extension moves the live client to the new request and its new removal date instead, so the
integration keeps its client id and secret.

Everything here runs inside the approval's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import naming, oauth
from tokenry.domain.access_requests import (
    LIVE,
    RequestKind,
    RequestState,
    check_integrations,
    expiry_of,
)
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict
from tokenry.domain.users import Role
from tokenry.notify import messages
from tokenry.notify.outbox import has_private_channel
from tokenry.operations._common import audit
from tokenry.operations._delivery import send_sealed
from tokenry.operations._oauth import ceiling, client_label, require_client_admin
from tokenry.operations._requests import audit_request, link_of, notify
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, register_client
from tokenry.operations.deny_request import close
from tokenry.storage.models import AccessRequest, OAuthClient, User
from tokenry.storage.queries import account_settings

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def client_identifier(request: AccessRequest) -> str:
    """The standard identifier of a request's client: ``request-17-billing-sync``."""
    slug = _NOT_SLUG.sub("-", request.service_name.lower()).strip("-")
    return f"request-{request.id}-{slug}"[:100].rstrip("-")


def integration_bot(session: Session, account_id: int) -> User:
    """The account's Integration bot, checked: integrations allowed, the bot named, and an
    active admin (a client made as anyone else would carry their power)."""
    policy = account_settings(session, account_id)
    check_integrations(allowed=policy.integrations_allowed, bot=policy.integration_bot)
    bot = session.scalar(select(User).where(User.account_id == account_id,
                                            User.email == policy.integration_bot))
    if bot is None or bot.suspended or bot.role != Role.ADMIN:
        raise Conflict(f"The Integration bot {policy.integration_bot} is not an active admin "
                       "of this account; an admin fixes the integration_bot setting first.")
    return bot


def issue_integration(session: Session, core: Core, actor: Actor, request: AccessRequest,
                      holder: User, announce: Callable[[str], None]) -> None:
    """Create (or, for an extension, extend) the request's client, record the approval, and
    ``announce`` it (with what the holder should know) before anything is delivered."""
    assert request.kind == RequestKind.INTEGRATION
    require_client_admin(session, actor, "issue integrations")
    bot = integration_bot(session, request.account_id)
    extended = _live_client_of(session, request)
    if extended is not None:
        _extend(session, core, actor, request, extended, holder)
        _approved(session, core, actor, request, f"an extension of OAuth client "
                  f"{client_label(extended)}")
        announce(f"Integration {extended.identifier} keeps its client id and secret and now "
                 f"lives until {request.removal_date}.")
        return
    policy = account_settings(session, request.account_id)
    allowed = oauth.client_scopes(request.scopes, ceiling(policy), actor.scopes)
    if request.client_kind == oauth.CONFIDENTIAL and \
            not has_private_channel(session, core, request.account_id):
        raise Conflict("No private delivery channel is configured, so nobody could receive "
                       "the client secret. Set up e-mail (TOKENRY_SMTP_HOST, with the "
                       "account's notify_email on) or Slack direct messages (the account's "
                       "slack_bot_token), then approve again.")
    link = link_of(core, request)
    created = register_client(
        session, core, actor, ClientFields(
            name=naming.request_name(holder.name, link, request.removal_date),
            identifier=client_identifier(request), kind=request.client_kind,
            redirect_uris=request.redirect_uris),
        allowed_scopes=allowed, user_id=bot.id, created_by_id=bot.id,
        access_request_id=request.id, expires_at=expiry_of(request.removal_date),
        why=f" as the Integration bot {bot.email} for request #{request.id}")
    request.oauth_client_id = created.client.id
    if created.secret is None:  # a public client has nothing secret to deliver
        request.state = RequestState.DELIVERED
    _approved(session, core, actor, request, f"OAuth client {client_label(created.client)}")
    announce("")
    if created.secret is not None:
        send_sealed(session, core, request, created.secret, holder, client=created.client)
    else:  # its identifier is all the holder needs
        notify(session, core, request, messages.integration_ready(
            request, link, created.client.identifier), [holder])


def _approved(session: Session, core: Core, actor: Actor, request: AccessRequest,
              what: str) -> None:
    audit_request(session, core, actor, request, Action.APPROVE,
                  f"Provisioner approved request #{request.id}; issued {what}",
                  state=[RequestState.MANAGER_APPROVED, request.state],
                  oauth_client_id=[None, request.oauth_client_id])


def _live_client_of(session: Session, request: AccessRequest) -> OAuthClient | None:
    """The client of the live integration request this one extends, if any."""
    if request.extends_request_id is None:
        return None
    old = session.get(AccessRequest, request.extends_request_id, with_for_update=True)
    if old is None or old.state not in LIVE or old.oauth_client_id is None:
        return None
    client = session.get(OAuthClient, old.oauth_client_id, with_for_update=True)
    return client if client is not None and client.active else None


def _extend(session: Session, core: Core, actor: Actor, request: AccessRequest,
            client: OAuthClient, holder: User) -> None:
    """The extension takes over the client: new removal date and name, same id and secret.
    The request it extends is closed as expired."""
    old = session.get(AccessRequest, client.access_request_id) \
        if client.access_request_id else None
    before = (client.name, client.expires_at)
    client.name = naming.request_name(holder.name, link_of(core, request), request.removal_date)
    client.expires_at = expiry_of(request.removal_date)
    client.access_request_id, client.updated_at = request.id, core.clock()
    request.oauth_client_id = client.id
    request.state = RequestState.DELIVERED  # the holder already holds its secret
    audit(session, core, actor, action=Action.UPDATE, source_type=SourceType.OAUTH_CLIENT,
          source_id=client.id, source_label=client_label(client),
          changes={"name": [before[0], client.name],
                   "expires_at": [before[1].isoformat() if before[1] else None,
                                  client.expires_at.isoformat()]},
          description=f"Extended OAuth client {client_label(client)} until "
                      f"{request.removal_date} for request #{request.id}")
    if old is not None and old.state in LIVE:
        state = old.state
        close(core, actor, old, RequestState.EXPIRED, None)
        audit_request(session, core, actor, old, Action.EXPIRE,
                      f"Request #{old.id} is expired: extended by request #{request.id}",
                      state=[state, old.state])

