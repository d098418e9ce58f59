"""``tokenry report``: governance reports on stdout, as a table, JSON or CSV."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import typer

from tokenry.cli.common import AccountOption, AsOption, acting, open_core, out, table
from tokenry.operations.compliance_report import ComplianceReport, compliance_report
from tokenry.present_csv import cells, compliance_csv

app = typer.Typer(help="Governance reports.", no_args_is_help=True)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


# the CSV's columns less the ids, which a terminal has no room for
TABLE_COLUMNS = ("category", "kind", "name", "identifier", "scopes", "removal_date", "state",
                 "reason")


def _table(report: ComplianceReport) -> None:
    if report.findings:
        table(TABLE_COLUMNS, [[cells(f)[c] for c in TABLE_COLUMNS] for f in report.findings])
    else:
        out.print("No findings.")
    out.print(", ".join(f"{name}: {count}" for name, count in report.counts.items()),
              highlight=False)


def _json(report: ComplianceReport) -> None:
    sys.stdout.write(json.dumps({"compliance": report.as_dict()}, indent=2) + "\n")


def _csv(report: ComplianceReport) -> None:
    sys.stdout.write(compliance_csv(report))


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
    """API tokens and integrations' OAuth clients without approval, with non-standard names,
    unused or held by suspended users; unbound tokens; stale pending requests. Admins and
    provisioners only."""
    with open_core() as core:
        report = compliance_report(core, acting(core, as_email, account), unused_days=unused_days)
    RENDERERS[output](report)
