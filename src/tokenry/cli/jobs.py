"""``tokenry jobs run``: the scheduler's work on demand, for cron or a one-off."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from tokenry.cli.common import JsonOption, emit, fail, open_core, out, table
from tokenry.jobs.dry_run import preview_jobs
from tokenry.jobs.runner import JOBS, run_jobs
from tokenry.notify.worker import deliver_due

app = typer.Typer(help="Scheduled jobs (expiry, reminders, inactivity, clean-up).",
                  no_args_is_help=True)


@app.command("run")
def run(only: Annotated[str | None, typer.Option(
            help=f"Run one job only: {', '.join(JOBS)}.")] = None,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="Print what every job would do, and change nothing.")] = False,
        at: Annotated[str | None, typer.Option(
            help="With --dry-run: the moment to preview, an ISO 8601 date or time "
                 "(UTC unless it has a zone), e.g. 2027-03-31 or 2027-03-31T09:00+02:00.")]
        = None,
        as_json: JsonOption = False) -> None:
    """Run every job once for every account, then deliver due notifications. Safe to rerun;
    on PostgreSQL only one node runs the jobs at a time (others report that they skipped)."""
    if at is not None and not dry_run:
        fail("--at previews a moment; use it with --dry-run")
    if dry_run:
        _preview(_moment(at) if at else None, as_json)
        return
    with open_core() as core:
        report = run_jobs(core, only)
        if only is None:  # cron deployments need nothing else to get notifications out
            sent = deliver_due(core)
            report.counts["notifications_sent"] = sent.sent
            report.counts["notifications_failed"] = sent.failed + sent.dead
        payload = {"ran": report.ran, "counts": report.counts, "errors": report.errors}

        def render() -> None:
            if not report.ran:
                out.print("Another node is running the jobs; nothing done.")
                return
            table(["job", "items"], list(report.counts.items()))

        emit(as_json, payload, render)
        if report.errors:
            fail(f"some jobs failed: {', '.join(report.errors)} (see the log)")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"--at: {text!r} is not an ISO 8601 date or time (e.g. 2027-03-31T09:00Z)")
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        fail(f"--at: {text!r} is outside the range of dates")


def _preview(at: datetime | None, as_json: bool) -> None:
    with open_core() as core:
        preview = preview_jobs(core, at or core.clock())
        payload = {"dry_run": True, "at": preview.at.isoformat(),
                   "counts": preview.report.counts, "errors": preview.report.errors,
                   "would": [vars(item) for item in preview.items]}

        def render() -> None:
            out.print(f"Dry run at {preview.at.isoformat()}: nothing was changed or sent.")
            table(["account", "would", "what"],
                  [(i.account_id, i.what, i.summary) for i in preview.items])

        emit(as_json, payload, render)
