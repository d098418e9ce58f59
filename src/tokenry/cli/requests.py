"""``tokenry requests``: file, list, show, approve, deny and cancel access requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

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
from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.operations._requests import link_of
from tokenry.operations.approve_request import approve_request
from tokenry.operations.context import PageRequest
from tokenry.operations.deny_request import cancel_request, deny_request
from tokenry.operations.request_queries import RequestFilter, list_requests, show_request
from tokenry.operations.resend_delivery import resend_delivery
from tokenry.operations.submit_request import Submission, submit_request
from tokenry.present import request_json
from tokenry.storage.models import AccessRequest

app = typer.Typer(help="File, list, show, approve, deny and cancel access requests.",
                  no_args_is_help=True)
RequestId = Annotated[int, typer.Argument(help="The access request's id.")]


def _json(core: Core, request: AccessRequest) -> dict[str, Any]:
    return request_json(request, link_of(core, request))


def _show(request: dict[str, Any]) -> None:
    table(["field", "value"], list(request.items()))


def _parse_date(value: str | None) -> date | None:
    # Absent stays None so the operation names every missing field at once.
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise Invalid.field("removal_date", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _summary(request: dict[str, Any]) -> str:
    line = f"Access request {request['id']} is now {request['state']}"
    if request["token_id"] is not None:
        line += f" (API token {request['token_id']}; the holder gets a one-time link)"
    if request["denial_message"]:
        line += f": {request['denial_message']}"
    return line.rstrip(".") + "."  # a denial message may end with its own full stop


@app.command("submit")
def submit(service: Annotated[str | None, typer.Option(
               help="The service the token is for.")] = None,
           purpose: Annotated[str | None, typer.Option(help="Why the token is needed.")] = None,
           use_case: Annotated[str | None, typer.Option(
               help="What the token will be used for.")] = None,
           removal_date: Annotated[str | None, typer.Option(
               help="When the token goes away, YYYY-MM-DD.")] = None,
           for_email: Annotated[str | None, typer.Option(
               "--for", help="The token holder's email (default: yourself).")] = None,
           admin_required: Annotated[bool, typer.Option(
               help="Whether admin level is needed (then justify it).")] = True,
           justification: Annotated[str, typer.Option(
               help="Why admin level is needed.")] = "",
           extends: Annotated[int | None, typer.Option(
               help="The id of a live request this one extends.")] = None,
           as_email: AsOption = None, account: AccountOption = None,
           as_json: JsonOption = False) -> None:
    """File an access request for an admin API token; it goes to your manager first."""
    with open_core() as core:
        submission = Submission(
            service_name=service, purpose=purpose, use_case=use_case,
            removal_date=_parse_date(removal_date), admin_required=admin_required,
            admin_justification=justification, for_email=for_email,
            extends_request_id=extends)
        request = _json(core, submit_request(core, acting(core, as_email, account), submission))
        emit(as_json, {"access_request": request}, lambda: out.print(
            f"Submitted access request {request['id']}: {request['url']}", highlight=False))


@app.command("list")
def list_(state: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
          mine: Annotated[bool, typer.Option(
              help="Only requests you filed, that are for you, or that wait for you.")] = False,
          page: int = 1, per_page: int = 100, as_email: AsOption = None,
          account: AccountOption = None, as_json: JsonOption = False) -> None:
    """List the access requests you may see, newest first."""
    with open_core() as core:
        result = list_requests(core, acting(core, as_email, account),
                               RequestFilter(state=state, mine=mine), PageRequest(page, per_page))
        requests = [_json(core, r) for r in result.items]
        emit(as_json, {"access_requests": requests, "count": result.count}, lambda: table(
            ["id", "state", "service", "holder id", "removal date", "token id"],
            [(r["id"], r["state"], r["service_name"], r["holder_id"], r["removal_date"],
              r["token_id"]) for r in requests]))


@app.command("show")
def show(request_id: RequestId, as_email: AsOption = None, account: AccountOption = None,
         as_json: JsonOption = False) -> None:
    """Show one access request."""
    with open_core() as core:
        request = _json(core, show_request(core, acting(core, as_email, account), request_id))
        emit(as_json, {"access_request": request}, lambda: _show(request))


@app.command("approve")
def approve(request_id: RequestId,
            stage: Annotated[Literal["manager", "provisioner"] | None, typer.Option(
                help="The decision you mean to make: manager or provisioner. A stale or "
                     "repeated approval is then refused instead of taken as the next one.")]
            = None,
            acts_as: Annotated[str | None, typer.Option(
                "--acts-as", help="Provisioner stage: the email of the user the token acts "
                "as (default: the holder); an admin when admin level is required.")] = None,
            as_email: AsOption = None, account: AccountOption = None,
            as_json: JsonOption = False) -> None:
    """Approve a request: as the requester's manager, then as a provisioner (issues the token)."""
    with open_core() as core:
        request = _json(core, approve_request(core, acting(core, as_email, account), request_id,
                                              stage=stage, acts_as=acts_as))
        emit(as_json, {"access_request": request}, lambda: out.print(_summary(request)))


@app.command("deny")
def deny(request_id: RequestId,
         reason: Annotated[str | None, typer.Option(
             help="Why (required); 'admin level not required' advises password auth.")] = None,
         as_email: AsOption = None, account: AccountOption = None,
         as_json: JsonOption = False) -> None:
    """Deny a pending request, with a reason the requester is told."""
    with open_core() as core:
        request = _json(core, deny_request(core, acting(core, as_email, account), request_id,
                                           reason))
        emit(as_json, {"access_request": request}, lambda: out.print(_summary(request)))


@app.command("cancel")
def cancel(request_id: RequestId, yes: YesOption = False, as_email: AsOption = None,
           account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Cancel your own pending request."""
    confirm(f"Cancel access request {request_id}?", yes)
    with open_core() as core:
        request = _json(core, cancel_request(core, acting(core, as_email, account), request_id))
        emit(as_json, {"access_request": request}, lambda: out.print(_summary(request)))


@app.command("resend")
def resend(request_id: RequestId, yes: YesOption = False, as_email: AsOption = None,
           account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Re-send a token's or an integration's delivery: the token or confidential client gets
    a new secret and the holder a new link."""
    confirm(f"Give request {request_id}'s token or client a new secret and send a new link?",
            yes)
    with open_core() as core:
        request = _json(core, resend_delivery(core, acting(core, as_email, account), request_id))
        emit(as_json, {"access_request": request}, lambda: out.print(
            f"Access request {request['id']}: a new one-time link is on its way to the "
            "holder; the old secret and link no longer work."))
