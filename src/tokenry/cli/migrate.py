"""``tokenry oauth migrate TOKEN_ID``: the OAuth integration that would replace an API token,
from what the token was seen calling; ``--yes`` files it as an integration request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

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
from tokenry.cli.requests import parse_date
from tokenry.domain.errors import Invalid
from tokenry.domain.migration import DEFAULT_DAYS
from tokenry.domain.timefmt import iso
from tokenry.operations.propose_migration import (
    MigrationOptions,
    Proposal,
    file_migration,
    propose_migration,
)
from tokenry.present import request_json

# The operation names request fields; the command's errors speak of its flags.
_FLAGS = {"scopes": "--scope", "days": "--days", "service_name": "--service",
          "for_email": "--for", "redirect_uris": "--redirect-uri", "removal_date": "--removal-date"}
_LEADING = re.compile(r"^(" + "|".join(_FLAGS) + r"):")


@contextmanager
def _flags() -> Iterator[None]:
    """Only a field-named prefix is rewritten: 'days' is an ordinary word elsewhere."""
    try:
        yield
    except Invalid as error:
        text = _LEADING.sub(lambda match: _FLAGS[match.group(1)] + ":", error.description)
        raise Invalid(text, {_FLAGS.get(k, k): v for k, v in error.details.items()},
                      blank=[_FLAGS.get(k, k) for k in error.blank]) from None


def proposal_json(proposal: Proposal) -> dict[str, Any]:
    token, asked = proposal.token, proposal.submission
    return {
        "token": {"id": token.id, "token": token.display, "description": token.description,
                  "active": token.active, "user_id": token.user_id,
                  "scopes": token.scopes, "expires_at": iso(token.expires_at)},
        "since": iso(proposal.since),
        "endpoints": [{"endpoint": e.endpoint, "count": e.count, "scope": e.scope}
                      for e in proposal.endpoints],
        "derived_scopes": proposal.derived_scopes,
        "request": {"kind": asked.kind, "client_kind": asked.client_kind,
                    "service_name": asked.service_name, "holder": asked.for_email,
                    "removal_date": asked.removal_date.isoformat() if asked.removal_date
                    else None,
                    "scopes": proposal.scopes, "redirect_uris": asked.redirect_uris or [],
                    "purpose": asked.purpose, "use_case": asked.use_case},
    }


def _render(proposal: Proposal, days: int) -> None:
    token, asked = proposal.token, proposal.submission
    described = f" ({token.description})" if token.description else ""
    state = "" if token.active else ", inactive"
    out.print(f"API token {token.id} {token.display}{described}{state}", highlight=False)
    out.print(f"Calls in the last {days} days:", highlight=False)
    table(["endpoint", "calls", "needs"],
          [(e.endpoint, e.count, e.scope or "(no scope)") for e in proposal.endpoints])
    if proposal.scopes != proposal.derived_scopes:
        out.print(f"Scopes from its usage: {' '.join(proposal.derived_scopes) or '(none)'}; "
                  "--scope replaces them.", highlight=False)
    out.print("The integration request it would file:")
    table(["field", "value"], [
        ("kind", f"integration, {asked.client_kind} client"),
        ("scopes", " ".join(proposal.scopes)),
        ("service", asked.service_name),
        ("holder", asked.for_email or "(you)"),
        ("removal date", asked.removal_date),
        ("redirect URIs", " ".join(asked.redirect_uris or []) or "(none)"),
    ])
    out.print("Nothing was filed. Run again with --yes to file it: your manager approves it, "
              "then a provisioner creates the client.", highlight=False)


def migrate(token_id: Annotated[int, typer.Argument(help="The API token's id.")],
            days: Annotated[int, typer.Option(
                help="How many days of recorded usage to read.")] = DEFAULT_DAYS,
            scope: Annotated[list[str] | None, typer.Option(
                "--scope", help="Ask for this scope instead of those derived from the "
                                "usage; repeat it for more.")] = None,
            service: Annotated[str | None, typer.Option(
                help="The service name (default: the token's request or description).")]
            = None,
            removal_date: Annotated[str | None, typer.Option(
                help="When the integration goes away, YYYY-MM-DD (default: the token's "
                     "expiry, or the account's longest lifetime).")] = None,
            for_email: Annotated[str | None, typer.Option(
                "--for", help="The holder's email (default: the token's user or its "
                              "request's holder).")] = None,
            redirect_uri: Annotated[list[str] | None, typer.Option(
                "--redirect-uri", help="A redirect URI for the authorization code flow; "
                                       "repeat it for more.")] = None,
            yes: Annotated[bool, typer.Option(
                "--yes", "-y", help="File the integration request (default: only show it).")]
            = False,
            as_email: AsOption = None, account: AccountOption = None,
            as_json: JsonOption = False) -> None:
    """Propose the OAuth integration that replaces an API token, with the scopes its recorded
    usage needs; --yes files it as an integration request."""
    with open_core() as core, _flags():
        actor = acting(core, as_email, account)
        options = MigrationOptions(days=days, scopes=scope or None, service_name=service,
                                   removal_date=parse_date(removal_date), for_email=for_email,
                                   redirect_uris=redirect_uri or None)
        if not yes:
            proposal = propose_migration(core, actor, token_id, options)
            emit(as_json, {"proposal": proposal_json(proposal), "access_request": None},
                 lambda: _render(proposal, days))
            return
        filed = file_migration(core, actor, token_id, options)
        request = request_json(filed.request, filed.link)
        emit(as_json, {"proposal": proposal_json(filed.proposal), "access_request": request},
             lambda: out.print(
                 f"Filed integration request {request['id']} ({' '.join(request['scopes'])}) "
                 f"to replace API token {token_id}: {request['url']}", highlight=False))
