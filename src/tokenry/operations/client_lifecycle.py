"""Switching an OAuth client off and on: the one place a client's ``active`` changes.

A switched-off client authenticates nothing (no grant, no code, no consent) and every live
token it was given is revoked in the same transaction, so the commit clears the verification
cache and its access tokens fail from the next request on. A client past its ``expires_at``
is refused the same way before the expiry job has switched it off (``usable``).

The scheduler switches clients off (removal date reached, delivery link lapsed unread); a
provisioner's re-send switches a lapsed one back on. Both run inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.tokens import is_usable
from tokenry.operations._common import audit
from tokenry.operations._oauth import client_label
from tokenry.operations.context import Actor
from tokenry.storage.models import OAuthClient, OAuthToken


def usable(client: OAuthClient, now: datetime) -> bool:
    """Whether ``client`` may still authenticate and get tokens: active, not expired."""
    return is_usable(active=client.active, expires_at=client.expires_at, now=now)


def set_client_active(session: Session, core: Core, actor: Actor, client: OAuthClient,
                      active: bool, why: str = "") -> bool:
    """Switch ``client`` (locked by the caller) on or off, audited as an update of it.

    Switching off revokes every live token of the client. Returns False (and records
    nothing) when the client already is in that state."""
    if client.active == active:
        return False
    now = core.clock()
    client.active, client.updated_at = active, now
    changes: dict[str, object] = {"active": [not active, active]}
    revoked = [] if active else _revoke_live_tokens(session, client, now)
    if revoked:
        changes["revoked_tokens"] = [None, revoked]
    verb = "Reactivated" if active else "Deactivated"
    tokens = f"; {len(revoked)} live token{'s' if len(revoked) != 1 else ''} revoked" \
        if revoked else ""
    audit(session, core, actor, action=Action.REACTIVATE if active else Action.DEACTIVATE,
          source_type=SourceType.OAUTH_CLIENT, source_id=client.id,
          source_label=client_label(client), changes=changes,
          description=f"{verb} OAuth client {client_label(client)}"
                      f"{f' ({why})' if why else ''}{tokens}")
    return True


def _revoke_live_tokens(session: Session, client: OAuthClient, now: datetime) -> list[int]:
    """Every token of the client that still works (its access token, or an unspent refresh
    token), revoked through the ORM so that the commit clears the verification cache."""
    rows = list(session.scalars(select(OAuthToken).where(
        OAuthToken.client_id == client.id, OAuthToken.revoked_at.is_(None),
        or_(OAuthToken.expires_at > now,
            and_(OAuthToken.refreshed_at.is_(None), OAuthToken.refresh_expires_at > now)))
        .order_by(OAuthToken.id).with_for_update()))
    for row in rows:
        row.revoked_at = now
    return [row.id for row in rows]
