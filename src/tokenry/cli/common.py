"""What every CLI command shares: settings, the core, the acting admin, output and errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from tokenry.config import load_settings
from tokenry.core import Core, build_core
from tokenry.domain.errors import Invalid, TokenryError
from tokenry.operations.accounts import find_account
from tokenry.operations.bootstrap import SecretMismatch, bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.operations.users import show_user
from tokenry.server_secret import SecretKeyError
from tokenry.storage.database import SchemaOutOfDate

err = Console(stderr=True)
out = Console()

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AsOption = Annotated[str | None, typer.Option(
    "--as", help="Act as this admin (default: the bootstrap admin).")]
AccountOption = Annotated[str | None, typer.Option(
    "--account", help="Account subdomain (default: the default account).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


# The operations name API fields; whoever uses the CLI typed flags, so errors speak of flags.
FLAGS = {"service_name": "--service", "removal_date": "--removal-date", "use_case": "--use-case",
         "purpose": "--purpose", "for_email": "--for", "admin_required": "--admin-required",
         "admin_justification": "--justification", "extends_request_id": "--extends",
         "acts_as": "--acts-as", "user_email": "--user", "expires_at": "--expires-at",
         "unused_days": "--unused-days", "per_page": "--per-page"}
_FIELD = re.compile(r"(?<![\w-])(" + "|".join(FLAGS) + r")(?![\w-])")


def flag_words(text: str) -> str:
    return _FIELD.sub(lambda match: FLAGS[match.group(1)], text)


@contextmanager
def leading_flags(flags: dict[str, str]) -> Iterator[None]:
    """Name these fields by their flags, but only where an error begins with the field
    ("scopes: ..."): words such as "kind" or "scopes" are ordinary words elsewhere."""
    leading = re.compile(r"^(" + "|".join(map(re.escape, flags)) + r"):")
    try:
        yield
    except Invalid as error:
        text = leading.sub(lambda match: flags[match.group(1)] + ":", error.description)
        raise Invalid(text, {flags.get(k, k): v for k, v in error.details.items()},
                      blank=[flags.get(k, k) for k in error.blank]) from None


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn every expected failure into a clear message and a non-zero exit code."""
    try:
        yield
    except Invalid as error:
        lines = [error.description] + [
            f"  {field}: {problem}" for field, problems in error.details.items()
            for problem in problems if problem not in error.description
        ]
        fail(flag_words("\n".join(lines)))
    except TokenryError as error:
        fail(flag_words(error.description))
    except (SchemaOutOfDate, SecretMismatch, SecretKeyError) as error:
        fail(str(error), code=2)
    except OperationalError as error:
        fail(f"cannot use the database: {error.orig}", code=2)


@contextmanager
def open_core(*, check_schema: bool = True) -> Iterator[Core]:
    with handled():
        try:
            settings = load_settings()
        except ValueError as error:
            fail(f"invalid settings: {error}", code=2)
        core = build_core(settings)
        try:
            if check_schema:
                core.db.check_schema()
            yield core
        finally:
            core.close()


def acting(core: Core, as_email: str | None, account: str | None) -> Actor:
    """The CLI acts as the bootstrap admin, or ``--as`` an admin; on other accounts with no
    ``--as`` it acts as the operator (the system actor), who may do what an admin may."""
    target = find_account(core, account or core.settings.default_subdomain)
    system = Actor(account_id=target.id, user_id=None, label="tokenry (cli)", via="cli",
                   user_agent="tokenry-cli", credential="cli", proves_person=True)
    if as_email is None:
        admin = bootstrap_admin(core)
        if admin is None or admin.account_id != target.id:
            return system
        as_email = admin.email
    user = show_user(core, system, as_email)
    # The operator at the server's own console is trusted to say who they act as.
    return Actor(account_id=target.id, user_id=user.id, label=user.email, via="cli",
                 user_agent="tokenry-cli", credential="cli", proves_person=True)


def emit(as_json: bool, payload: Any, render: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        render()


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(*columns, show_edge=False, header_style="bold")
    for row in rows:
        grid.add_row(*("" if value is None else str(value) for value in row))
    out.print(grid)


def confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"{question} Refusing without a terminal to ask; pass --yes to confirm.")
    if not typer.confirm(question, default=False):
        fail("cancelled", code=1)
