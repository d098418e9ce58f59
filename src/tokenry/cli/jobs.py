"""``tokenry jobs run``: the scheduler's work on demand, for cron or a one-off."""

from __future__ import annotations

from typing import Annotated

import typer

from tokenry.cli.common import JsonOption, emit, fail, open_core, out, table
from tokenry.jobs.runner import JOBS, run_jobs
from tokenry.notify.worker import deliver_due

app = typer.Typer(help="Scheduled jobs (expiry, reminders, inactivity, clean-up).",
                  no_args_is_help=True)


@app.command("run")
def run(only: Annotated[str | None, typer.Option(
            help=f"Run one job only: {', '.join(JOBS)}.")] = None,
        as_json: JsonOption = False) -> None:
    """Run every job once for every account, then deliver due notifications. Safe to rerun;
    on PostgreSQL only one node runs the jobs at a time (others report that they skipped)."""
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
