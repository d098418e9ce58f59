"""The CSV shape of the compliance report, shared by ``tokenry report`` and the Admin Center.

Cells that a spreadsheet would run as a formula are defused: a token name is user input.
"""

from __future__ import annotations

import csv
import io

from tokenry.domain.csv_cells import defuse
from tokenry.operations.compliance_report import ComplianceReport

COMPLIANCE_COLUMNS = ("category", "token_id", "request_id", "name", "reason")


def compliance_csv(report: ComplianceReport) -> str:
    """A header row, then one row per finding."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COMPLIANCE_COLUMNS)
    for finding in report.findings:
        row = finding.as_dict()
        writer.writerow([defuse(row[column]) for column in COMPLIANCE_COLUMNS])
    return text.getvalue()
