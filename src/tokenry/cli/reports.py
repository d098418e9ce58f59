"""``tokenry report``: governance reports on stdout, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import typer

from tokenry.cli.common import AccountOption, AsOption, acting, open_core, out, table
from tokenry.operations.compliance_report import ComplianceReport, compliance_report

app = typer.Typer(help="Governance reports.", no_args_is_help=True)
COLUMNS = ("category", "token_id", "request_id", "name", "reason")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _table(report: ComplianceReport) -> None:
    if report.findings:
        table(COLUMNS, [[f.as_dict()[c] for c in COLUMNS] for f in report.findings])
    else:
        out.print("No findings.")
    out.print(", ".join(f"{name}: {count}" for name, count in report.counts.items()),
              highlight=False)


def _json(report: ComplianceReport) -> None:
    sys.stdout.write(json.dumps({"compliance": report.as_dict()}, indent=2) + "\n")


def _cell(value: object) -> object:
    # A token name is user input; a spreadsheet would run one starting with "=" as a formula.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(report: ComplianceReport) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(COLUMNS)
    for finding in report.findings:
        writer.writerow([_cell(finding.as_dict()[c]) for c in COLUMNS])


RENDERERS: dict[Format, Callable[[ComplianceReport], None]] = {
    Format.TABLE: _table, Format.JSON: _json, Format.CSV: _csv}


@app.command("compliance")
def compliance(
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
    unused_days: Annotated[int | None, typer.Option(
        "--unused-days", help="Report tokens unused for this many days (default: the "
        "account's inactivity_days; 0 skips the check).")] = None,
    as_email: AsOption = None, account: AccountOption = None,
) -> None:
    """Tokens without approval, non-standard names, unused tokens, tokens of suspended users
    and stale pending requests. Admins and provisioners only."""
    with open_core() as core:
        report = compliance_report(core, acting(core, as_email, account), unused_days=unused_days)
    RENDERERS[output](report)
