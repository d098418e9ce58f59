"""Nobody is surprised: approvers are reminded of requests that wait for them, and holders
and provisioners are warned before a token is deactivated for inactivity.

Every reminder has an idempotency key, so a rerun of the job (or a second node) adds nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import PENDING
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import holder_and_provisioners
from tokenry.jobs.batches import each_in_batches
from tokenry.jobs.inactivity import BY_ACTIVE_DAY, active_day_key, last_active_within
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._requests import deciders, link_of, notify, user
from tokenry.storage.models import AccessRequest, ApiToken


def remind_pending_approvers(core: Core, account_id: int, policy: AccountSettings) -> int:
    """After ``approval_reminder_days`` in a stage, and on the day before a request would
    close as stale, whoever must decide next is reminded."""
    now = core.clock()

    def remind(session: Session, request: AccessRequest) -> bool:
        stage_began = request.manager_decided_at or request.created_at
        closes_at = request.created_at + timedelta(days=policy.pending_request_max_age_days)
        closing = now >= closes_at - timedelta(days=1)
        due = policy.approval_reminder_days and \
            now >= stage_began + timedelta(days=policy.approval_reminder_days)
        if not (closing or due):
            return False
        holder = user(session, request.holder_id)
        assert holder is not None
        link = link_of(core, request)
        message = messages.pending_reminder(
            request, link, holder, closes_on=closes_at.date().isoformat() if closing
            else None)
        notify(session, core, request, message, deciders(session, request))
        return True

    return each_in_batches(core, select(AccessRequest).where(
        AccessRequest.account_id == account_id, AccessRequest.state.in_(sorted(PENDING))),
        (AccessRequest.id,), lambda r: (r.id,), remind, lock=False)


def warn_before_inactivity(core: Core, account_id: int, policy: AccountSettings) -> int:
    """Tokens that will be deactivated for inactivity within ``inactivity_warning_days``."""
    if policy.inactivity_days == 0 or policy.inactivity_warning_days == 0:
        return 0
    now = core.clock()
    cutoff = now - timedelta(days=policy.inactivity_days)
    warn_from = cutoff + timedelta(days=policy.inactivity_warning_days)

    def warn(session: Session, token: ApiToken) -> bool:
        since = token.last_used_at or token.created_at
        off_at = since + timedelta(days=policy.inactivity_days)
        # keyed by the last use: a token used again and idle again is warned again
        enqueue(session, core, account_id, messages.token_event(
            token, "inactive_soon", f"inactive-warning:{since.isoformat()}",
            f"has not been used since {since.date()} and will be deactivated for "
            "inactivity unless it is used before then", off_at),
            holder_and_provisioners(session, token))
        return True

    return each_in_batches(core, select(ApiToken).where(
        ApiToken.account_id == account_id, ApiToken.active.is_(True),
        *last_active_within(cutoff, warn_from)), BY_ACTIVE_DAY, active_day_key, warn,
        lock=False)
