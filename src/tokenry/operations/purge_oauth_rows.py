"""PurgeEndedOAuthTokens, PurgeExpiredOAuthCodes: the scheduler deletes OAuth rows that can
never work again, in batches, so the tables stay small.

A token row ends when its access token has expired and its refresh token (if any) has too,
or when it was revoked more than ``REVOKED_RETENTION`` ago (until then admins still see the
revocation in ``oauth tokens list``). A code ends at its expiry (ten minutes).

Both keep one more thing: reuse detection. A spent refresh token or a used code presented
again revokes its whole family, so either is kept while any token of its family is still
live, however long its own life ended. A live token itself is never selected.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.operations._common import audit
from tokenry.operations.context import Actor
from tokenry.storage.models import OAuthCode, OAuthToken

REVOKED_RETENTION = timedelta(days=30)
BATCH = 500  # rows per transaction: short locks, and a crash loses at most one batch


def _family_is_live(family: ColumnElement[str] | InstrumentedAttribute[str], account_id: int,
                    now: datetime) -> ColumnElement[bool]:
    """Some token of ``family`` still works: its access token, or an unspent refresh token."""
    other = aliased(OAuthToken)
    return exists().where(
        other.account_id == account_id, other.family == family, other.revoked_at.is_(None),
        or_(other.expires_at > now,
            and_(other.refreshed_at.is_(None), other.refresh_expires_at > now)))


def _ended_tokens(account_id: int, now: datetime) -> ColumnElement[bool]:
    lifetimes_over = and_(OAuthToken.expires_at <= now,
                          or_(OAuthToken.refresh_expires_at.is_(None),
                              OAuthToken.refresh_expires_at <= now))
    long_revoked = OAuthToken.revoked_at <= now - REVOKED_RETENTION
    return and_(OAuthToken.account_id == account_id, or_(lifetimes_over, long_revoked),
                ~_family_is_live(OAuthToken.family, account_id, now))


def _expired_codes(account_id: int, now: datetime) -> ColumnElement[bool]:
    return and_(OAuthCode.account_id == account_id, OAuthCode.expires_at <= now,
                or_(OAuthCode.used_at.is_(None),
                    ~_family_is_live(OAuthCode.family, account_id, now)))


def purge_ended_oauth_tokens(core: Core, actor: Actor, *, batch: int = BATCH) -> int:
    """Delete the account's ended OAuth tokens; each batch is audited as one event. Run by the
    scheduler (``actor`` is its actor): there is no one to ask, and nothing live is touched."""
    now, total = core.clock(), 0
    while True:
        with core.db.transaction() as session:
            ids = list(session.scalars(select(OAuthToken.id).where(
                _ended_tokens(actor.account_id, now)).order_by(OAuthToken.id).limit(batch)))
            if not ids:
                return total
            session.execute(delete(OAuthToken).where(OAuthToken.id.in_(ids))
                            .execution_options(synchronize_session=False))
            audit(session, core, actor, action=Action.DESTROY,
                  source_type=SourceType.OAUTH_TOKEN, source_id=None,
                  source_label=f"{len(ids)} ended OAuth token(s)",
                  changes={"id": [ids, None]},
                  description=f"Deleted {len(ids)} ended OAuth token(s) (expired, or revoked "
                              f"more than {REVOKED_RETENTION.days} days ago)")
        total += len(ids)
        if len(ids) < batch:
            return total


def purge_expired_oauth_codes(core: Core, actor: Actor, *, batch: int = BATCH) -> int:
    """Delete the account's expired authorization codes. Codes are never listed anywhere, so
    like ended sessions they go without an audit record."""
    now, total = core.clock(), 0
    while True:
        with core.db.transaction() as session:
            ids = list(session.scalars(select(OAuthCode.id).where(
                _expired_codes(actor.account_id, now)).order_by(OAuthCode.id).limit(batch)))
            if ids:
                session.execute(delete(OAuthCode).where(OAuthCode.id.in_(ids))
                                .execution_options(synchronize_session=False))
        total += len(ids)
        if len(ids) < batch:
            return total
