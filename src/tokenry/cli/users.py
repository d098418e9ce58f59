"""``tokenry users``: how people get in before the web UI exists, and are invited to it."""

from __future__ import annotations

from typing import Annotated

import typer

from tokenry.cli.common import (
    AccountOption,
    AsOption,
    JsonOption,
    acting,
    emit,
    open_core,
    out,
    table,
)
from tokenry.operations.context import PageRequest
from tokenry.operations.invitations import invite_user
from tokenry.operations.users import create_user, list_users, show_user, update_user
from tokenry.present import user_json

app = typer.Typer(help="Create, list, show and update users.", no_args_is_help=True)
PasswordOption = Annotated[str | None, typer.Option(
    envvar="TOKENRY_USER_PASSWORD", help="Password (or set TOKENRY_USER_PASSWORD).")]


def _show(user: dict[str, object]) -> None:
    table(["field", "value"], list(user.items()))


@app.command("create")
def create(email: Annotated[str, typer.Option(help="The user's email.")],
           name: Annotated[str, typer.Option(help="The user's full name.")],
           role: Annotated[str, typer.Option(help="admin, agent or end-user.")] = "end-user",
           password: PasswordOption = None,
           manager: Annotated[str | None, typer.Option(help="The manager's email.")] = None,
           unverified: Annotated[bool, typer.Option(help="Create as not yet verified.")] = False,
           provisioner: Annotated[bool, typer.Option(
               help="Designate as a provisioner (admins only).")] = False,
           as_email: AsOption = None, account: AccountOption = None,
           as_json: JsonOption = False) -> None:
    """Create a user."""
    with open_core() as core:
        user = user_json(create_user(core, acting(core, as_email, account), email=email,
                                     name=name, role=role, password=password,
                                     manager_email=manager, verified=not unverified,
                                     provisioner=provisioner))
        emit(as_json, {"user": user}, lambda: _show(user))


@app.command("list")
def list_(page: int = 1, per_page: int = 100, as_email: AsOption = None,
          account: AccountOption = None, as_json: JsonOption = False) -> None:
    """List the account's users."""
    with open_core() as core:
        result = list_users(core, acting(core, as_email, account), PageRequest(page, per_page))
        users = [user_json(u) for u in result.items]
        emit(as_json, {"users": users, "count": result.count}, lambda: table(
            ["id", "email", "name", "role", "provisioner", "verified", "suspended", "manager_id"],
            [(u["id"], u["email"], u["name"], u["role"], u["provisioner"], u["verified"],
              u["suspended"], u["manager_id"]) for u in users]))


@app.command("show")
def show(email: str, as_email: AsOption = None, account: AccountOption = None,
         as_json: JsonOption = False) -> None:
    """Show one user."""
    with open_core() as core:
        user = user_json(show_user(core, acting(core, as_email, account), email))
        emit(as_json, {"user": user}, lambda: _show(user))


@app.command("update")
def update(email: str,
           name: Annotated[str | None, typer.Option()] = None,
           role: Annotated[str | None, typer.Option()] = None,
           verified: Annotated[bool | None, typer.Option("--verified/--unverified")] = None,
           suspended: Annotated[bool | None, typer.Option("--suspended/--unsuspended")] = None,
           password: PasswordOption = None,
           manager: Annotated[str | None, typer.Option(help="The manager's email.")] = None,
           provisioner: Annotated[bool | None, typer.Option(
               "--provisioner/--no-provisioner")] = None,
           as_email: AsOption = None, account: AccountOption = None,
           as_json: JsonOption = False) -> None:
    """Change a user's name, role, verification, suspension, password, manager or
    provisioner designation."""
    with open_core() as core:
        user = user_json(update_user(core, acting(core, as_email, account), email, name=name,
                                     role=role, verified=verified, suspended=suspended,
                                     password=password, manager_email=manager,
                                     provisioner=provisioner))
        emit(as_json, {"user": user}, lambda: _show(user))


@app.command("invite")
def invite(email: str, as_email: AsOption = None, account: AccountOption = None,
           as_json: JsonOption = False) -> None:
    """Send a user without a password a one-time link to choose one (by e-mail or Slack DM).
    A new invitation replaces any earlier one."""
    with open_core() as core:
        invited = invite_user(core, acting(core, as_email, account), email)
        payload = {"email": invited.email, "expires_at": invited.expires_at.isoformat()}
        emit(as_json, {"invitation": payload}, lambda: out.print(
            f"Invitation sent to {invited.email}; the link works until "
            f"{invited.expires_at:%Y-%m-%d %H:%M} UTC.", highlight=False))
