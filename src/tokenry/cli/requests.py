"""``tokenry requests``: file, list, show, approve, deny and cancel access requests.

A request asks for an API token (``--kind api_token``, the default, with optional scopes) or
an integration (``--kind integration``: an OAuth client made as the account's Integration
bot, with ``--scope``, ``--client-kind`` and ``--redirect-uri``)."""

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
    leading_flags,
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


# what a request asks for; errors name these by their flags (see leading_flags)
ASKED_FLAGS = {"kind": "--kind", "scopes": "--scope", "client_kind": "--client-kind",
               "redirect_uris": "--redirect-uri"}
KindOption = Annotated[Literal["api_token", "integration"] | None, typer.Option(
    help="What is asked for: api_token (the default) or integration (an OAuth client made "
         "as the account's Integration bot).")]
ScopeOption = Annotated[list[str] | None, typer.Option(
    "--scope", help="A scope asked for (tickets:read, users:write ...); repeat it for more. "
                    "Optional for an API token (none: unscoped), required for an integration.")]
ClientKindOption = Annotated[Literal["confidential", "public"] | None, typer.Option(
    help="Integration: confidential (the default; its secret is delivered once) or public "
         "(no secret; needs a redirect URI).")]
RedirectOption = Annotated[list[str] | None, typer.Option(
    "--redirect-uri", help="Integration: an absolute redirect URI; repeat it for more.")]


def _show(request: dict[str, Any]) -> None:
    table(["field", "value"], [(name, _cell(value)) for name, value in request.items()])


def _cell(value: Any) -> Any:
    """Lists (scopes, redirect URIs) as words, not as Python's repr."""
    return " ".join(value) if isinstance(value, list) else value


def _words(values: list[str] | None) -> list[str] | None:
    """Each --scope may itself hold several, space-separated (as the API's string does)."""
    return [word for value in values for word in value.split()] if values else None


def parse_date(value: str | None) -> date | None:
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
    elif request["oauth_client_id"] is not None:
        line += (f" (OAuth client {request['oauth_client_id']}, made as the Integration bot; "
                 + ("the holder gets its secret through a one-time link)"
                    if request["state"] == "issued" else "the holder was told)"))
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
           kind: KindOption = None, scope: ScopeOption = None,
           client_kind: ClientKindOption = None, redirect_uri: RedirectOption = None,
           as_email: AsOption = None, account: AccountOption = None,
           as_json: JsonOption = False) -> None:
    """File an access request for an admin API token or an integration; it goes to your
    manager first."""
    with open_core() as core, leading_flags(ASKED_FLAGS):
        submission = Submission(
            service_name=service, purpose=purpose, use_case=use_case,
            removal_date=parse_date(removal_date), admin_required=admin_required,
            admin_justification=justification, for_email=for_email,
            extends_request_id=extends, kind=kind, scopes=_words(scope),
            client_kind=client_kind, redirect_uris=redirect_uri or None)
        request = _json(core, submit_request(core, acting(core, as_email, account), submission))
        asked = "integration" if request["kind"] == "integration" else "access"
        emit(as_json, {"access_request": request}, lambda: out.print(
            f"Submitted {asked} request {request['id']}: {request['url']}", highlight=False))


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
            ["id", "state", "asks for", "service", "holder id", "removal date", "issued"],
            [(r["id"], r["state"], _asks_for(r), r["service_name"], r["holder_id"],
              r["removal_date"], _issued(r)) for r in requests]))


def _asks_for(request: dict[str, Any]) -> str:
    """The kind, then the scopes, one a line: a narrow terminal still shows every word."""
    return "\n".join([request["kind"], *(request["scopes"] or [])])


def _issued(request: dict[str, Any]) -> str | None:
    if request["token_id"] is not None:
        return f"token {request['token_id']}"
    if request["oauth_client_id"] is not None:
        return f"client {request['oauth_client_id']}"
    return None


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
                "--acts-as", help="Provisioner stage, API tokens only: the email of the user "
                "the token acts as (default: the holder); an admin when admin level is "
                "required. An integration's client acts as the Integration bot.")] = None,
            as_email: AsOption = None, account: AccountOption = None,
            as_json: JsonOption = False) -> None:
    """Approve a request: as the requester's manager, then as a provisioner (issues the token
    or creates the integration's OAuth client)."""
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
