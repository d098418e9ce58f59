"""The weekly compliance report, e-mailed to the account's provisioners (once per ISO week)."""

from __future__ import annotations

from tokenry.core import Core
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import scheduler
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._requests import base_url, provisioners
from tokenry.operations.compliance_report import Kind, compliance_report

TOP_ITEMS = 10
KINDS = {Kind.API_TOKEN: "API token", Kind.OAUTH_CLIENT: "OAuth client",
         Kind.ACCESS_REQUEST: "request"}


def send_weekly_compliance_report(core: Core, account_id: int, policy: AccountSettings) -> int:
    if not policy.weekly_compliance_report:
        return 0
    year, week, _ = core.clock().isocalendar()
    label = f"{year}-W{week:02d}"
    report = compliance_report(core, scheduler(account_id))
    top = [f"{f.category.value.replace('_', ' ')}: {KINDS[f.kind]} {f.name} ({f.reason})"
           for f in report.findings[:TOP_ITEMS]]
    link = f"{base_url(core, account_id)}/admin/compliance"
    with core.db.transaction() as session:
        people = provisioners(session, account_id)
        if not people:
            return 0
        # keyed by the ISO week: every later run of the job in the same week adds nothing
        enqueue(session, core, account_id,
                messages.weekly_compliance(label, report.counts, top, link), people)
    return 1
