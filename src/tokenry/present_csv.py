"""The CSV shape of the compliance report, shared by ``tokenry report`` and the Admin Center.

Cells that a spreadsheet would run as a formula are defused: a token name is user input.
"""

from __future__ import annotations

import csv
import io

from tokenry.operations.compliance_report import ComplianceReport

COMPLIANCE_COLUMNS = ("category", "token_id", "request_id", "name", "reason")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def compliance_csv(report: ComplianceReport) -> str:
    """A header row, then one row per finding."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COMPLIANCE_COLUMNS)
    for finding in report.findings:
        row = finding.as_dict()
        writer.writerow([_cell(row[column]) for column in COMPLIANCE_COLUMNS])
    return text.getvalue()
