"""Run every job for every account, on one node at a time.

On PostgreSQL a session-level advisory lock makes sure only one node runs the jobs at
once; a node that cannot take it skips the round. The lock is keyed by the schema too
(``LOCK``), so installations that share one PostgreSQL database in different schemas never
skip each other's rounds. Each job commits per batch of rows (jobs/batches.py), and every
job selects its work by state, so a rerun (or a run after a crash) does only what is left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select, text

from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.domain.settings import AccountSettings
from tokenry.jobs import (
    clients,
    expiry,
    inactivity,
    oauth_cleanup,
    reminders,
    requests,
    sessions,
    weekly_report,
)
from tokenry.storage.models import Account
from tokenry.storage.queries import account_settings

log = logging.getLogger("tokenry.jobs")
ADVISORY_LOCK = 0x746B72  # "tkr"
# the two-key form: tokenry's key, and the schema this installation's tables live in
LOCK = "(:k, hashtext(current_schema()))"
Job = Callable[[Core, int, AccountSettings], int]
# Order matters: stale requests close before anything else; reminders go out before the
# expiry step deactivates; deletion after grace runs last.
JOBS: dict[str, Job] = {
    "remind_pending_approvers": reminders.remind_pending_approvers,
    "close_stale_requests": requests.close_stale_requests,
    "lapse_unread_deliveries": requests.lapse_unread_deliveries,
    "retire_extended_tokens": requests.retire_extended_tokens,
    "send_expiry_reminders": expiry.send_expiry_reminders,
    "expire_tokens": expiry.expire_tokens,
    "send_client_expiry_reminders": clients.send_client_expiry_reminders,
    "expire_clients": clients.expire_clients,
    "warn_before_inactivity": reminders.warn_before_inactivity,
    "deactivate_unused": inactivity.deactivate_unused,
    "delete_expired_after_grace": expiry.delete_expired_after_grace,
    "delete_expired_clients_after_grace": clients.delete_expired_clients_after_grace,
    "delete_long_deactivated": inactivity.delete_long_deactivated,
    "send_weekly_compliance_report": weekly_report.send_weekly_compliance_report,
    "purge_old_notifications": requests.purge_old_notifications,
    "purge_ended_sessions": sessions.purge_ended_sessions,
    "purge_ended_oauth_tokens": oauth_cleanup.purge_ended_oauth_tokens_job,
    "purge_expired_oauth_codes": oauth_cleanup.purge_expired_oauth_codes_job,
}


@dataclass
class JobReport:
    ran: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@contextmanager
def _only_one_node(core: Core) -> Iterator[bool]:
    if not core.db.is_postgres:
        yield True  # SQLite is single-node; BEGIN IMMEDIATE serialises the writes
        return
    with core.db.engine.connect() as connection:
        got = bool(connection.execute(text(f"SELECT pg_try_advisory_lock{LOCK}"),
                                      {"k": ADVISORY_LOCK}).scalar())
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text(f"SELECT pg_advisory_unlock{LOCK}"),
                                   {"k": ADVISORY_LOCK})
                connection.commit()


def run_jobs(core: Core, only: str | None = None) -> JobReport:
    if only is not None and only not in JOBS:
        raise Invalid.field("job", f"unknown job; use one of: {', '.join(JOBS)}")
    report = JobReport()
    with _only_one_node(core) as leader:
        if not leader:
            return JobReport(ran=False)
        core.usage.flush(core.db)  # inactivity needs the latest last-used times
        with core.db.read() as session:
            accounts = list(session.scalars(select(Account.id)))
        for name, job in JOBS.items():
            if only is not None and name != only:
                continue
            report.counts[name] = 0
            started, failures = time.perf_counter(), len(report.errors)
            for account_id in accounts:
                try:
                    with core.db.read() as session:
                        policy = account_settings(session, account_id)
                    report.counts[name] += job(core, account_id, policy)
                except Exception as error:  # one account's failure must not stop the rest
                    log.exception("job %s failed for account %s", name, account_id)
                    report.errors[f"{name}:{account_id}"] = type(error).__name__
            core.metrics.job_ran(name, time.perf_counter() - started,
                                 failed=len(report.errors) > failures)
    return report
