"""The protocol's use cases, called by the OAuth endpoints (``tokenry.http.oauth``): find a
client, save and redeem an authorization code, issue tokens for a grant, rotate a refresh
token (a spent one revokes its family), introspect.

The protocol itself (parameters, PKCE, client authentication, error codes) is Authlib's;
these functions keep storage, policy and audit. They hand the adapter frozen records, never
ORM rows, so nothing outlives its transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import oauth, token_format
from tokenry.domain.audit import Action
from tokenry.domain.users import may_sign_in
from tokenry.operations._oauth import Lifetimes, ceiling, lifetimes
from tokenry.operations.client_lifecycle import usable
from tokenry.operations.context import Actor
from tokenry.operations.issue_oauth_token import MintedToken, mint
from tokenry.operations.revoke_oauth_token import revoke, revoke_family
from tokenry.storage.models import Account, OAuthClient, OAuthCode, OAuthToken, User
from tokenry.storage.queries import account_settings, matches


@dataclass(frozen=True, slots=True)
class ClientRecord:
    id: int
    account_id: int
    identifier: str
    name: str
    kind: str
    redirect_uris: tuple[str, ...]
    allowed_scopes: tuple[str, ...] | None
    ceiling: tuple[str, ...] | None
    secret_hash: str | None
    user_id: int | None
    lifetimes: Lifetimes


@dataclass(frozen=True, slots=True)
class CodeRecord:
    id: int
    client_id: int
    user_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    family: str


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    id: int
    client_id: int
    user_id: int
    scopes: tuple[str, ...]
    family: str


def _client_actor(account_id: int, client_id: int, user_id: int | None,
                  label: str) -> Actor:
    return Actor(account_id=account_id, user_id=user_id, label=label, via="oauth",
                 credential=f"oauth client {client_id}")


def find_grant_client(core: Core, account_id: int, identifier: str) -> ClientRecord | None:
    """The client ``identifier`` names, while it may authenticate: a switched-off client, or
    one past its removal date, is as unknown as none (``invalid_client``)."""
    with core.db.read() as session:
        client = session.scalar(select(OAuthClient).where(
            OAuthClient.account_id == account_id, OAuthClient.identifier == identifier))
        if client is None or not usable(client, core.clock()):
            return None
        return ClientRecord(
            id=client.id, account_id=client.account_id, identifier=client.identifier,
            name=client.name, kind=client.kind, redirect_uris=tuple(client.redirect_uris),
            allowed_scopes=tuple(client.allowed_scopes) if client.allowed_scopes is not None
            else None,
            ceiling=_tuple(ceiling(account_settings(session, account_id))),
            secret_hash=client.secret_hash, user_id=client.user_id,
            lifetimes=lifetimes(session, client))


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None


def new_code(core: Core) -> str:
    return token_format.generate(oauth.prefix_for(core.settings.token_prefix,
                                                  oauth.CODE)).secret


def save_code(core: Core, client: ClientRecord, user_id: int, code: str, *,
              redirect_uri: str, scopes: list[str], code_challenge: str | None,
              code_challenge_method: str | None) -> None:
    """Keep the hash of ``code``, issued on ``user_id``'s consent, for ten minutes."""
    now = core.clock()
    with core.db.transaction() as session:
        code_hash, key_id = core.hasher.stamp(code)
        session.add(OAuthCode(
            account_id=client.account_id, client_id=client.id, user_id=user_id,
            code_hash=code_hash, key_id=key_id, redirect_uri=redirect_uri,
            scopes=scopes, code_challenge=code_challenge,
            code_challenge_method=(code_challenge_method or "plain") if code_challenge
            else None,
            family=secrets.token_hex(16), created_at=now, expires_at=now + oauth.CODE_LIFETIME))


def find_code(core: Core, client: ClientRecord, code: str) -> CodeRecord | None:
    """The client's unused, unexpired code; anything else is no code (``invalid_grant``).
    A code presented again revokes the tokens it was exchanged for (RFC 6749 4.1.2)."""
    with core.db.read() as session:
        row = session.scalar(select(OAuthCode).where(
            matches(OAuthCode.code_hash, core.hasher.candidates(code))))
        if row is None or row.client_id != client.id:
            return None
        if row.used_at is not None:
            family = row.family
        elif row.expires_at <= core.clock():
            return None
        else:
            return CodeRecord(row.id, row.client_id, row.user_id, row.redirect_uri,
                              tuple(row.scopes), row.code_challenge,
                              row.code_challenge_method, row.family)
    code_replayed(core, client, family)
    return None


def code_replayed(core: Core, client: ClientRecord, family: str) -> None:
    with core.db.transaction() as session:
        revoke_family(session, core, _client_actor(client.account_id, client.id, None,
                                                   client.identifier), family)


def spend_code(core: Core, code_id: int) -> bool:
    """Mark the code used; False when another request spent it first (single use holds
    under concurrency because the row is locked)."""
    with core.db.transaction() as session:
        row = session.scalar(select(OAuthCode).where(OAuthCode.id == code_id)
                             .with_for_update())
        if row is None or row.used_at is not None:
            return False
        row.used_at = core.clock()
        return True


def user_may_act(core: Core, account_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    with core.db.read() as session:
        user = session.get(User, user_id)
        return user is not None and user.account_id == account_id and may_sign_in(
            verified=user.verified, suspended=user.suspended)


def issue_for_grant(core: Core, client: ClientRecord, *, user_id: int, scopes: list[str],
                    grant_type: str, with_refresh: bool,
                    family: str | None = None) -> MintedToken:
    with core.db.transaction() as session:
        row = _locked_usable_client(session, core, client)
        actor = _client_actor(client.account_id, client.id, user_id, client.identifier)
        return mint(session, core, actor, row, user_id=user_id, scopes=scopes,
                    grant_type=grant_type, with_refresh=with_refresh, family=family)


def find_refresh(core: Core, client: ClientRecord, secret: str) -> RefreshRecord | None:
    """The live refresh token ``secret`` names. A spent one revokes its whole family (the
    token was copied: whoever holds the family's newest token must sign in again)."""
    digests = core.hasher.candidates(secret)
    with core.db.transaction() as session:
        row = session.scalar(select(OAuthToken).where(matches(OAuthToken.refresh_hash, digests)))
        if row is None or row.client_id != client.id:
            return None
        if row.refreshed_at is not None:
            revoke_family(session, core, _client_actor(
                client.account_id, client.id, None, client.identifier), row.family)
            return None
        if row.revoked_at is not None or row.refresh_expires_at is None \
                or row.refresh_expires_at <= core.clock():
            return None
        return RefreshRecord(row.id, row.client_id, row.user_id, tuple(row.scopes), row.family)


class RefreshSpent(Exception):
    """Another request rotated this refresh token first."""


class ClientUnusable(Exception):
    """The client was switched off, or reached its removal date, during the request."""


def _locked_usable_client(session: Session, core: Core, client: ClientRecord) -> OAuthClient:
    """The client's row, locked: switching it off locks it too, so a token is never minted
    beside a switch-off that would miss it."""
    row = session.scalar(select(OAuthClient).where(OAuthClient.id == client.id)
                         .with_for_update())
    if row is None or not usable(row, core.clock()):
        raise ClientUnusable
    return row


def rotate(core: Core, client: ClientRecord, old: RefreshRecord,
           scopes: list[str]) -> MintedToken:
    """Spend ``old`` and issue its successor in the same family, in one transaction."""
    with core.db.transaction() as session:
        client_row = _locked_usable_client(session, core, client)
        row = session.scalar(select(OAuthToken).where(OAuthToken.id == old.id)
                             .with_for_update())
        if row is None or row.refreshed_at is not None or row.revoked_at is not None:
            raise RefreshSpent
        row.refreshed_at = core.clock()
        actor = _client_actor(client.account_id, client.id, old.user_id, client.identifier)
        return mint(session, core, actor, client_row, user_id=old.user_id, scopes=scopes,
                    grant_type="refresh_token", with_refresh=True, family=old.family,
                    action=Action.REFRESH)


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What RFC 7009 and RFC 7662 need of a token a client presents."""
    id: int
    client_id: int
    client_identifier: str
    user_id: int
    username: str
    subdomain: str
    scopes: tuple[str, ...]
    is_refresh: bool
    active: bool
    created_at: datetime
    expires_at: datetime | None


def token_facts(core: Core, account_id: int, secret: str) -> TokenFacts | None:
    """The access or refresh token ``secret`` names in this account, live or not."""
    digests = core.hasher.candidates(secret)
    with core.db.read() as session:
        row = session.scalar(select(OAuthToken).where(
            or_(matches(OAuthToken.access_hash, digests),
                matches(OAuthToken.refresh_hash, digests))))
        if row is None or row.account_id != account_id:
            return None
        is_refresh = row.access_hash not in digests
        expiry = row.refresh_expires_at if is_refresh else row.expires_at
        owner = session.get(OAuthClient, row.client_id)
        active = row.revoked_at is None and expiry is not None and expiry > core.clock() \
            and not (is_refresh and row.refreshed_at is not None) \
            and owner is not None and usable(owner, core.clock())
        user = session.get(User, row.user_id)
        account = session.get(Account, row.account_id)
        return TokenFacts(
            id=row.id, client_id=row.client_id,
            client_identifier=owner.identifier if owner else "", user_id=row.user_id,
            username=user.email if user else "", subdomain=account.subdomain if account else "",
            scopes=tuple(row.scopes), is_refresh=is_refresh, active=active,
            created_at=row.created_at, expires_at=expiry)


def revoke_presented(core: Core, client: ClientRecord, token_id: int) -> None:
    """RFC 7009: the client revokes one of its own tokens (access and refresh go together)."""
    with core.db.transaction() as session:
        row = session.scalar(select(OAuthToken).where(OAuthToken.id == token_id)
                             .with_for_update())
        if row is not None and row.client_id == client.id:
            revoke(session, core, _client_actor(client.account_id, client.id, None,
                                                client.identifier), row)
