"""``tokenry tokens``: the API token lifecycle from the command line."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from tokenry.cli.common import (
    AccountOption,
    AsOption,
    JsonOption,
    YesOption,
    acting,
    confirm,
    emit,
    open_core,
    out,
    table,
)
from tokenry.domain.errors import Invalid
from tokenry.operations.context import PageRequest
from tokenry.operations.create_token import create_token
from tokenry.operations.delete_token import delete_token
from tokenry.operations.exception_tokens import ExceptionKind, create_exception_token
from tokenry.operations.token_activity import token_activity
from tokenry.operations.token_queries import list_tokens, show_token
from tokenry.operations.update_token import update_token
from tokenry.operations.users import show_user
from tokenry.present import activity_json, token_json

app = typer.Typer(help="Create, list, edit, deactivate, reactivate and delete API tokens.",
                  no_args_is_help=True)
TokenId = Annotated[int, typer.Argument(help="The token's id.")]


def _show(token: dict[str, object]) -> None:
    table(["field", "value"], [(k, v) for k, v in token.items()])


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid.field("expires_at", f"{value!r} is not an ISO 8601 time") from None


@app.command("create")
def create(description: Annotated[str, typer.Option(help="What the token is for.")] = "",
           expires_at: Annotated[str | None, typer.Option(
               help="ISO 8601 time with zone, e.g. 2027-01-31T23:59:59Z.")] = None,
           user: Annotated[str | None, typer.Option(
               help="Bind the token to this user's email (with --exception target: the "
                    "service user it acts as, required).")] = None,
           exception: Annotated[ExceptionKind | None, typer.Option(
               help="Issue a provisioner's exception token, named by the standard, without "
                    "an access request.")] = None,
           use_case: Annotated[str | None, typer.Option(
               help="With --exception personal or automation: what the token is for.")] = None,
           target: Annotated[str | None, typer.Option(
               help="With --exception target: the target or webhook it is for.")] = None,
           scope: Annotated[list[str] | None, typer.Option(
               help="A scope the token is limited to (read, write, users:read ...); repeat "
                    "it for more. None: the full power of the token's user.")] = None,
           as_email: AsOption = None, account: AccountOption = None,
           as_json: JsonOption = False) -> None:
    """Create a token. The full token is printed this once and never again.

    With --exception, a provisioner issues a personal, automation or target token without an
    access request; its description follows the naming standard."""
    with open_core() as core:
        actor = acting(core, as_email, account)
        if exception is not None:
            if description:
                raise Invalid.field("exception", "an exception token is named by the standard: "
                                    "drop --description")
            created = create_exception_token(core, actor, exception, use_case=use_case,
                                             target=target, expires_at=_parse_time(expires_at),
                                             user_email=user, scopes=scope)
        elif use_case is not None or target is not None:
            raise Invalid.field("exception", "--use-case and --target go with --exception")
        else:
            user_id = show_user(core, actor, user).id if user else None
            created = create_token(core, actor, description=description,
                                   expires_at=_parse_time(expires_at), user_id=user_id,
                                   scopes=scope)
        payload = token_json(created.token, secret=created.secret)

        def render() -> None:
            out.print(f"Created API token {created.token.id}. Copy it now; it is not shown again:")
            out.print(created.secret, highlight=False, soft_wrap=True)

        emit(as_json, {"api_token": payload}, render)


@app.command("list")
def list_(page: int = 1, per_page: int = 100, as_email: AsOption = None,
          account: AccountOption = None, as_json: JsonOption = False) -> None:
    """List tokens (truncated)."""
    with open_core() as core:
        result = list_tokens(core, acting(core, as_email, account), PageRequest(page, per_page))
        tokens = [token_json(t) for t in result.items]
        emit(as_json, {"api_tokens": tokens, "count": result.count}, lambda: table(
            ["id", "token", "active", "description", "last used", "expires"],
            [(t["id"], t["token"], t["active"], t["description"], t["last_used_at"],
              t["expires_at"]) for t in tokens]))


@app.command("show")
def show(token_id: TokenId, as_email: AsOption = None, account: AccountOption = None,
         as_json: JsonOption = False) -> None:
    """Show one token (truncated)."""
    with open_core() as core:
        token = token_json(show_token(core, acting(core, as_email, account), token_id))
        emit(as_json, {"api_token": token}, lambda: _show(token))


def _change(token_id: int, changes: dict[str, object], as_email: str | None,
            account: str | None, as_json: bool) -> None:
    with open_core() as core:
        token = token_json(update_token(core, acting(core, as_email, account), token_id, changes))
        emit(as_json, {"api_token": token}, lambda: _show(token))


@app.command("edit")
def edit(token_id: TokenId,
         description: Annotated[str, typer.Option(help="The new description.")],
         as_email: AsOption = None, account: AccountOption = None,
         as_json: JsonOption = False) -> None:
    """Change a token's description (the only thing that can be edited)."""
    _change(token_id, {"description": description}, as_email, account, as_json)


@app.command("deactivate")
def deactivate(token_id: TokenId, yes: YesOption = False, as_email: AsOption = None,
               account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Deactivate a token: requests using it fail from the next one on."""
    confirm(f"Deactivate API token {token_id}?", yes)
    _change(token_id, {"active": False}, as_email, account, as_json)


@app.command("reactivate")
def reactivate(token_id: TokenId, yes: YesOption = False, as_email: AsOption = None,
               account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Reactivate a deactivated token."""
    confirm(f"Reactivate API token {token_id}?", yes)
    _change(token_id, {"active": True}, as_email, account, as_json)


@app.command("delete")
def delete(token_id: TokenId, yes: YesOption = False, as_email: AsOption = None,
           account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Delete a deactivated token for good."""
    confirm(f"Delete API token {token_id} for good?", yes)
    with open_core() as core:
        delete_token(core, acting(core, as_email, account), token_id)
        emit(as_json, {"deleted": token_id}, lambda: out.print(f"Deleted API token {token_id}."))


@app.command("activity")
def activity(period: Annotated[str, typer.Option(help="24h, 7d or 30d.")] = "24h",
             token: Annotated[int | None, typer.Option(help="One token's id only.")] = None,
             as_email: AsOption = None, account: AccountOption = None,
             as_json: JsonOption = False) -> None:
    """API requests over the period, and the top tokens, callers and endpoints."""
    with open_core() as core:
        found = activity_json(token_activity(core, acting(core, as_email, account), period,
                                             token))

        def render() -> None:
            out.print(f"{found['total']} requests from {found['start']} to {found['end']}")
            table(["bucket", "requests"], [(p["start"], p["count"]) for p in found["series"]
                                           if p["count"]])
            table(["token", "requests"], [(t["token"], t["count"]) for t in found["top_tokens"]])
            table(["caller", "ip", "requests"], [(c["email"], c["ip_address"], c["count"])
                                                 for c in found["top_callers"]])
            table(["endpoint", "requests"], [(e["endpoint"], e["count"])
                                             for e in found["top_endpoints"]])

        emit(as_json, {"activity": found}, render)
