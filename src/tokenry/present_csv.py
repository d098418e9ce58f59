"""The CSV shape of the compliance report, shared by ``tokenry report`` and the Admin Center.

Cells that a spreadsheet would run as a formula are defused: a token name is user input.
"""

from __future__ import annotations

import csv
import io

from tokenry.domain.csv_cells import defuse
from tokenry.operations.compliance_report import ComplianceReport, Finding

COMPLIANCE_COLUMNS = ("category", "kind", "token_id", "oauth_client_id", "request_id", "name",
                      "identifier", "scopes", "removal_date", "state", "reason")


def cells(finding: Finding) -> dict[str, object]:
    """A finding's values as table and CSV cells: scopes space-separated, as they are typed."""
    row = finding.as_dict()
    row["scopes"] = " ".join(row["scopes"]) if row["scopes"] is not None else ""
    return row


def compliance_csv(report: ComplianceReport) -> str:
    """A header row, then one row per finding."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COMPLIANCE_COLUMNS)
    for finding in report.findings:
        row = cells(finding)
        writer.writerow([defuse(row[column]) for column in COMPLIANCE_COLUMNS])
    return text.getvalue()
