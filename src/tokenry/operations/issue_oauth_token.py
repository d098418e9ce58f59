"""IssueOAuthToken: mint an access token (and a refresh token) for a client and a user.

``mint`` runs inside the caller's transaction; the grant flows (authorization code, refresh,
client credentials) and an admin's ``POST /api/v2/oauth/tokens`` all end in it, so every
token is stored, hashed and audited the same way. The secrets are returned once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import oauth, token_format
from tokenry.domain.audit import Action, SourceType
from tokenry.operations._common import audit
from tokenry.operations._oauth import lifetimes, token_label
from tokenry.operations.context import Actor
from tokenry.storage.models import OAuthClient, OAuthToken


@dataclass(frozen=True)
class MintedToken:
    token: OAuthToken
    access_token: str
    refresh_token: str | None

    def __repr__(self) -> str:
        return f"MintedToken(id={self.token.id}, display={self.token.display!r})"

    @property
    def expires_in(self) -> int:
        return int((self.token.expires_at - self.token.created_at).total_seconds())

    @property
    def refresh_expires_in(self) -> int | None:
        if self.token.refresh_expires_at is None:
            return None
        return int((self.token.refresh_expires_at - self.token.created_at).total_seconds())


def mint(session: Session, core: Core, actor: Actor, client: OAuthClient, *, user_id: int,
         scopes: list[str], grant_type: str, with_refresh: bool,
         family: str | None = None, action: str = Action.CREATE) -> MintedToken:
    now = core.clock()
    life = lifetimes(session, client)
    prefix = core.settings.token_prefix
    access = token_format.generate(oauth.prefix_for(prefix, oauth.ACCESS))
    refresh = token_format.generate(oauth.prefix_for(prefix, oauth.REFRESH)) \
        if with_refresh else None
    access_hash, refresh_hash, key_id = core.hasher.stamp_pair(
        access.secret, refresh.secret if refresh else None)
    token = OAuthToken(
        account_id=client.account_id, client_id=client.id, user_id=user_id,
        access_hash=access_hash, refresh_hash=refresh_hash, key_id=key_id,
        display=access.display, refresh_display=refresh.display if refresh else None,
        scopes=list(scopes), grant_type=grant_type, family=family or secrets.token_hex(16),
        created_at=now, expires_at=now + life.access,
        refresh_expires_at=now + life.refresh if refresh else None)
    session.add(token)
    session.flush()
    audit(session, core, actor, action=action, source_type=SourceType.OAUTH_TOKEN,
          source_id=token.id, source_label=token_label(token),
          changes={"client_id": [None, client.id], "user_id": [None, user_id],
                   "scopes": [None, token.scopes], "grant_type": [None, grant_type]},
          description=f"Issued OAuth token {token.display} to client {client.identifier} "
                      f"({grant_type})")
    return MintedToken(token=token, access_token=access.secret,
                       refresh_token=refresh.secret if refresh else None)
