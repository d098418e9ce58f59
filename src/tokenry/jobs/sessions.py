"""Remove Admin Center sessions that have ended, and invitation links long past use.

An ended session is already refused when it is presented; this only keeps the table small.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_

from tokenry.core import Core
from tokenry.domain.settings import AccountSettings
from tokenry.jobs.batches import delete_in_batches
from tokenry.operations.web_sessions import policy as session_policy
from tokenry.storage.models import Invitation, WebSession

INVITATION_RETENTION = timedelta(days=30)


def purge_ended_sessions(core: Core, account_id: int, policy: AccountSettings) -> int:
    now = core.clock()
    sessions = session_policy(core)
    ended = delete_in_batches(
        core, WebSession, WebSession.account_id == account_id,
        or_(WebSession.created_at <= now - sessions.lifetime,
            WebSession.last_seen_at <= now - sessions.idle))
    delete_in_batches(core, Invitation, Invitation.account_id == account_id,
                      Invitation.expires_at <= now - INVITATION_RETENTION)
    return ended
