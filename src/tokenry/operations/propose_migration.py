"""ProposeMigration: the OAuth integration that would replace an API token, read from what the
token was seen calling; and FileMigration, which files it as an integration request.

The proposal reads the token's usage counters over the last ``days`` days, derives the
narrowest scopes (within the token's own scopes, if it has any) and fills in the request:
service name from the token's request or description, holder the token's user or its
request's holder, removal date the token's expiry within the account's maximum, a
confidential client. It is checked as the submission will be (integrations allowed, an
Integration bot named, scopes within the ceiling), so a proposal is what ``--yes`` files.

Who: the account's admins (provisioners are admins) and the token's own user. Filing goes
through :func:`submit_request`, so the manager and then a provisioner decide as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import migration
from tokenry.domain import oauth as oauth_rules
from tokenry.domain.access_requests import check_integrations, validate_asked
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.scopes import scopes_for_endpoints
from tokenry.domain.users import Role
from tokenry.operations._common import acting_user, find_token
from tokenry.operations._requests import link_of
from tokenry.operations.context import Actor
from tokenry.operations.submit_request import Submission, submit_request
from tokenry.storage.models import AccessRequest, ApiToken, UsageCounter, User
from tokenry.storage.queries import account_settings


@dataclass(frozen=True)
class MigrationOptions:
    """What the caller may set instead of the proposal's choice (``None``: the proposal's)."""

    days: int = migration.DEFAULT_DAYS
    scopes: list[str] | str | None = None
    service_name: str | None = None
    removal_date: date | None = None
    for_email: str | None = None
    redirect_uris: list[str] | None = None


@dataclass(frozen=True)
class EndpointUse:
    endpoint: str  # "GET /api/v2/users", as the usage counters record it
    count: int
    scope: str | None  # the scope it needs; None: any credential may call it


@dataclass(frozen=True)
class Proposal:
    token: ApiToken
    holder: User | None  # None: whoever files it holds it
    since: datetime
    endpoints: list[EndpointUse]
    derived_scopes: list[str]  # from the usage, within the token's own scopes
    scopes: list[str]  # what the request asks for: derived, or the caller's
    submission: Submission


@dataclass(frozen=True)
class Filed:
    proposal: Proposal
    request: AccessRequest
    link: str


def propose_migration(core: Core, actor: Actor, token_id: int,
                      options: MigrationOptions | None = None) -> Proposal:
    options = options or MigrationOptions()
    days = migration.check_days(options.days)
    now = core.clock()
    since = now - timedelta(days=days)
    with core.db.read() as session:
        token = find_token(session, actor, token_id)
        _require_may_migrate(session, actor, token)
        policy = account_settings(session, actor.account_id)
        check_integrations(allowed=policy.integrations_allowed, bot=policy.integration_bot)
        endpoints = _usage(session, token, since)
        request = (session.get(AccessRequest, token.access_request_id)
                   if token.access_request_id is not None else None)
        holder = _holder(session, token, request)
        derived = migration.within_token(
            scopes_for_endpoints(e.endpoint for e in endpoints), token.scopes)
        if options.scopes is None and not derived:
            raise Invalid.missing("scopes", migration.nothing_to_propose(
                token.display, days, [e.endpoint for e in endpoints], token.scopes))
        expiry = token.expires_at.date() if token.expires_at else (
            request.removal_date if request is not None else None)
        submission = Submission(
            kind="integration", client_kind=oauth_rules.CONFIDENTIAL,
            scopes=options.scopes if options.scopes is not None else derived,
            redirect_uris=options.redirect_uris,
            service_name=options.service_name or migration.service_name(
                request_service=request.service_name if request else None,
                description=token.description, display=token.display),
            purpose=migration.purpose(token.display, token.description),
            use_case=migration.use_case(token.display, days,
                                        [(e.endpoint, e.count) for e in endpoints]),
            removal_date=options.removal_date or migration.removal_date(
                expiry=expiry, today=now.date(),
                max_lifetime_days=policy.max_request_lifetime_days),
            admin_required=True, admin_justification=migration.justification(token.display),
            for_email=options.for_email or (holder.email if holder else None))
        # checked as the submission will be, so what is shown is what --yes files
        asked = validate_asked(submission.kind, submission.scopes, submission.client_kind,
                               submission.redirect_uris, ceiling=policy.scope_ceiling)
    assert asked.scopes is not None
    return Proposal(token=token, holder=holder, since=since, endpoints=endpoints,
                    derived_scopes=derived, scopes=asked.scopes, submission=submission)


def file_migration(core: Core, actor: Actor, token_id: int,
                   options: MigrationOptions | None = None) -> Filed:
    """File the proposal as an integration request, in the actor's name; it goes to their
    manager first, as every request does."""
    proposal = propose_migration(core, actor, token_id, options)
    request = submit_request(core, actor, proposal.submission)
    return Filed(proposal, request, link_of(core, request))


def _require_may_migrate(session: Session, actor: Actor, token: ApiToken) -> None:
    user = acting_user(session, actor)
    if user is None or user.role == Role.ADMIN or user.id == token.user_id:
        return
    raise Forbidden("Only an admin of this account, or the token's own user, can propose "
                    "its migration to an integration.")


def _usage(session: Session, token: ApiToken, since: datetime) -> list[EndpointUse]:
    total = func.sum(UsageCounter.count).label("total")
    rows = session.execute(
        select(UsageCounter.endpoint, total)
        .where(UsageCounter.account_id == token.account_id,
               UsageCounter.token_id == token.id, UsageCounter.minute >= since)
        .group_by(UsageCounter.endpoint).order_by(total.desc(), UsageCounter.endpoint)).all()
    return [EndpointUse(row.endpoint, int(row.total), migration.scope_of(row.endpoint))
            for row in rows]


def _holder(session: Session, token: ApiToken, request: AccessRequest | None) -> User | None:
    """The token's user, else the holder of the request it was issued for."""
    holder_id = token.user_id if token.user_id is not None else (
        request.holder_id if request is not None else None)
    return session.get(User, holder_id) if holder_id is not None else None
