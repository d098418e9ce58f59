"""RevokeOAuthToken: end an access token and its refresh token, by id (an admin, Zendesk's
``DELETE /api/v2/oauth/tokens/{id}``) or by secret (the client, RFC 7009); and revoke a
whole refresh family when a spent refresh token comes back (it was stolen or replayed)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import NotFound
from tokenry.operations._common import audit
from tokenry.operations._oauth import find_oauth_token, require_client_admin, token_label
from tokenry.operations.context import Actor
from tokenry.storage.models import OAuthToken


def revoke_oauth_token(core: Core, actor: Actor, token_id: int) -> None:
    with core.db.transaction() as session:
        require_client_admin(session, actor, "revoke OAuth tokens")
        token = find_oauth_token(session, actor, token_id)
        revoke(session, core, actor, token)


def revoke(session: Session, core: Core, actor: Actor, token: OAuthToken) -> bool:
    """Revoke one token row (access and refresh); False when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = core.clock()
    audit(session, core, actor, action=Action.REVOKE, source_type=SourceType.OAUTH_TOKEN,
          source_id=token.id, source_label=token_label(token),
          description=f"Revoked OAuth token {token.display}")
    return True


def revoke_family(session: Session, core: Core, actor: Actor, family: str) -> int:
    """Every token descended from one authorization: all revoked, in one statement."""
    now = core.clock()
    rows = list(session.scalars(select(OAuthToken).where(
        OAuthToken.family == family, OAuthToken.revoked_at.is_(None)).with_for_update()))
    for row in rows:  # through the ORM, so the commit clears the verification cache
        row.revoked_at = now
    audit(session, core, actor, action=Action.REUSE_DETECTED,
          source_type=SourceType.OAUTH_TOKEN, source_id=rows[0].id if rows else None,
          source_label=f"family {family[:8]}",
          changes={"revoked": [None, [row.id for row in rows]]},
          description="A spent refresh token was presented again: every token of its "
                      f"family is revoked ({len(rows)} token(s))")
    return len(rows)


def revoke_current_oauth_token(core: Core, actor: Actor) -> None:
    """Revoke the OAuth token the request was made with: anyone may end their own."""
    if actor.oauth_token_id is None:
        raise NotFound("This request was not made with an OAuth access token.")
    with core.db.transaction() as session:
        revoke(session, core, actor, find_oauth_token(session, actor, actor.oauth_token_id))
