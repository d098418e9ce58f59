"""``tokenry oauth``: OAuth clients and the tokens issued to them, from the command line.

The same operations as ``/api/v2/oauth/clients`` and ``/api/v2/oauth/tokens``. A confidential
client's secret is printed once, by ``clients create`` and ``clients regenerate-secret``.
``migrate`` (cli/migrate.py) proposes the integration that replaces an API token."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Annotated, Any

import typer

from tokenry.cli import migrate
from tokenry.cli.common import (
    AccountOption,
    AsOption,
    JsonOption,
    YesOption,
    acting,
    confirm,
    emit,
    fail,
    leading_flags,
    open_core,
    out,
    table,
)
from tokenry.core import Core
from tokenry.domain.errors import Invalid
from tokenry.operations.context import Actor, PageRequest
from tokenry.operations.create_oauth_client import ClientFields, CreatedClient, create_oauth_client
from tokenry.operations.delete_oauth_client import delete_oauth_client
from tokenry.operations.oauth_client_queries import list_oauth_clients, show_oauth_client
from tokenry.operations.oauth_token_queries import list_oauth_tokens, show_oauth_token
from tokenry.operations.regenerate_client_secret import regenerate_client_secret
from tokenry.operations.revoke_oauth_token import revoke_oauth_token
from tokenry.operations.update_oauth_client import update_oauth_client
from tokenry.operations.users import show_user
from tokenry.present import oauth_client_json, oauth_token_json

app = typer.Typer(help="OAuth clients and the tokens issued to them.", no_args_is_help=True)
clients_app = typer.Typer(help="Register, list, edit and delete OAuth clients.",
                          no_args_is_help=True)
tokens_app = typer.Typer(help="List, show and revoke OAuth tokens.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(tokens_app, name="tokens")
app.command("migrate")(migrate.migrate)

ClientId = Annotated[int, typer.Argument(help="The client's id.")]
OAuthTokenId = Annotated[int, typer.Argument(help="The OAuth token's id.")]
NameOption = Annotated[str | None, typer.Option(help="What people see on the consent page.")]
IdentifierOption = Annotated[str | None, typer.Option(
    help="The client_id the application presents (letters, digits, '.', '_', '-').")]
RedirectOption = Annotated[list[str] | None, typer.Option(
    "--redirect-uri", help="An absolute redirect URI; repeat it for more.")]
ScopeOption = Annotated[list[str] | None, typer.Option(
    "--scope", help="A scope the client may be granted (read, users:write ...); repeat it "
                    "for more. None: what the account allows.")]
UserOption = Annotated[str | None, typer.Option(
    "--user", help="The user (email) client_credentials tokens act as.")]
AccessOption = Annotated[int | None, typer.Option(
    help="Access token lifetime in seconds (default: the account's setting).")]
RefreshOption = Annotated[int | None, typer.Option(
    help="Refresh token lifetime in seconds (default: the account's setting).")]

# The operations name API fields; the CLI's errors speak of its flags.
_FLAGS = {"name": "--name", "identifier": "--identifier", "kind": "--kind",
          "redirect_uri": "--redirect-uri", "redirect_uris": "--redirect-uri",
          "allowed_scopes": "--scope", "user_id": "--user",
          "access_token_seconds": "--access-token-seconds",
          "refresh_token_seconds": "--refresh-token-seconds"}


def _flags() -> AbstractContextManager[None]:
    """Only a field-named prefix is rewritten: 'name' is an ordinary word elsewhere."""
    return leading_flags(_FLAGS)


def _user_id(core: Core, actor: Actor, email: str | None) -> int | None:
    return show_user(core, actor, email).id if email else None


def _show(record: dict[str, Any]) -> None:
    table(["field", "value"], [(k, v) for k, v in record.items() if k != "url"])


def _print_secret(created: CreatedClient, verb: str, as_json: bool) -> None:
    client = created.client
    payload = oauth_client_json(client, secret=created.secret)

    def render() -> None:
        if created.secret is None:
            out.print(f"{verb} OAuth client {client.id} ({client.identifier}); a public "
                      "client has no secret.")
            return
        out.print(f"{verb} OAuth client {client.id} ({client.identifier}). Copy its secret "
                  "now; it is not shown again:")
        out.print(created.secret, highlight=False, soft_wrap=True)

    emit(as_json, {"client": payload}, render)


@clients_app.command("list")
def clients_list(page: int = 1, per_page: int = 100, as_email: AsOption = None,
                 account: AccountOption = None, as_json: JsonOption = False) -> None:
    """List the account's OAuth clients (secrets truncated)."""
    with open_core() as core:
        result = list_oauth_clients(core, acting(core, as_email, account),
                                    PageRequest(page, per_page))
        clients = [oauth_client_json(c) for c in result.items]
        emit(as_json, {"clients": clients, "count": result.count}, lambda: table(
            ["id", "identifier", "name", "kind", "scopes", "user", "secret"],
            [(c["id"], c["identifier"], c["name"], c["kind"],
              " ".join(c["allowed_scopes"]) if c["allowed_scopes"] is not None else "(account)",
              c["user_id"], c["secret"]) for c in clients]))


@clients_app.command("show")
def clients_show(client_id: ClientId, as_email: AsOption = None,
                 account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Show one OAuth client (its secret truncated)."""
    with open_core() as core:
        client = oauth_client_json(show_oauth_client(core, acting(core, as_email, account),
                                                     client_id))
        emit(as_json, {"client": client}, lambda: _show(client))


@clients_app.command("create")
def clients_create(name: NameOption = None, identifier: IdentifierOption = None,
                   kind: Annotated[str, typer.Option(
                       help="confidential (has a secret) or public (PKCE, no secret).")]
                   = "confidential",
                   redirect_uri: RedirectOption = None, scope: ScopeOption = None,
                   user: UserOption = None, access_token_seconds: AccessOption = None,
                   refresh_token_seconds: RefreshOption = None, as_email: AsOption = None,
                   account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Register an OAuth client. A confidential client's secret is printed this once."""
    with open_core() as core, _flags():
        actor = acting(core, as_email, account)
        created = create_oauth_client(core, actor, ClientFields(
            name=name, identifier=identifier, kind=kind, redirect_uris=redirect_uri or [],
            allowed_scopes=scope or None, user_id=_user_id(core, actor, user),
            access_token_seconds=access_token_seconds,
            refresh_token_seconds=refresh_token_seconds))
        _print_secret(created, "Created", as_json)


@clients_app.command("edit")
def clients_edit(client_id: ClientId, name: NameOption = None,
                 identifier: IdentifierOption = None, redirect_uri: RedirectOption = None,
                 scope: ScopeOption = None,
                 all_scopes: Annotated[bool, typer.Option(
                     "--all-scopes", help="Drop the client's own scope list: it may be "
                                          "granted what the account allows.")] = False,
                 user: UserOption = None,
                 no_user: Annotated[bool, typer.Option(
                     "--no-user", help="client_credentials tokens act as no one "
                                       "(the grant is refused).")] = False,
                 access_token_seconds: AccessOption = None,
                 refresh_token_seconds: RefreshOption = None, as_email: AsOption = None,
                 account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Change what is given; the rest stays. The kind and secret do not change here."""
    if scope and all_scopes:
        fail("--scope and --all-scopes contradict each other")
    if user and no_user:
        fail("--user and --no-user contradict each other")
    with open_core() as core, _flags():
        actor = acting(core, as_email, account)
        changes: dict[str, Any] = {}
        for field, value in (("name", name), ("identifier", identifier),
                             ("access_token_seconds", access_token_seconds),
                             ("refresh_token_seconds", refresh_token_seconds)):
            if value is not None:
                changes[field] = value
        if redirect_uri:
            changes["redirect_uris"] = redirect_uri
        if scope:
            changes["allowed_scopes"] = scope
        if all_scopes:
            changes["allowed_scopes"] = None
        if user or no_user:
            changes["user_id"] = _user_id(core, actor, user)
        if not changes:
            raise Invalid("Nothing to change: give at least one option (see --help).")
        client = oauth_client_json(update_oauth_client(core, actor, client_id, changes))
        emit(as_json, {"client": client}, lambda: _show(client))


@clients_app.command("regenerate-secret")
def clients_regenerate_secret(client_id: ClientId, yes: YesOption = False,
                              as_email: AsOption = None, account: AccountOption = None,
                              as_json: JsonOption = False) -> None:
    """Give a confidential client a new secret, printed this once; the old one stops working
    at once."""
    confirm(f"Regenerate the secret of OAuth client {client_id}? The old secret stops "
            "working at once.", yes)
    with open_core() as core:
        created = regenerate_client_secret(core, acting(core, as_email, account), client_id)
        _print_secret(created, "Regenerated the secret of", as_json)


@clients_app.command("delete")
def clients_delete(client_id: ClientId, yes: YesOption = False, as_email: AsOption = None,
                   account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Delete an OAuth client; its tokens stop working at once."""
    confirm(f"Delete OAuth client {client_id} and all its tokens for good?", yes)
    with open_core() as core:
        delete_oauth_client(core, acting(core, as_email, account), client_id)
        emit(as_json, {"deleted": client_id},
             lambda: out.print(f"Deleted OAuth client {client_id} and its tokens."))


@tokens_app.command("list")
def tokens_list(client: Annotated[int | None, typer.Option(
                    "--client", help="Only the tokens of this client (its id).")] = None,
                page: int = 1, per_page: int = 100, as_email: AsOption = None,
                account: AccountOption = None, as_json: JsonOption = False) -> None:
    """List OAuth tokens (truncated), oldest first."""
    with open_core() as core:
        result = list_oauth_tokens(core, acting(core, as_email, account),
                                   PageRequest(page, per_page), client)
        tokens = [oauth_token_json(t) for t in result.items]
        emit(as_json, {"tokens": tokens, "count": result.count}, lambda: table(
            ["id", "token", "client", "user", "scopes", "expires", "revoked", "used"],
            [(t["id"], t["token"], t["client_id"], t["user_id"], " ".join(t["scopes"]),
              t["expires_at"], t["revoked_at"], t["used_at"]) for t in tokens]))


@tokens_app.command("show")
def tokens_show(token_id: OAuthTokenId, as_email: AsOption = None,
                account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Show one OAuth token (truncated)."""
    with open_core() as core:
        token = oauth_token_json(show_oauth_token(core, acting(core, as_email, account),
                                                  token_id))
        emit(as_json, {"token": token}, lambda: _show(token))


@tokens_app.command("revoke")
def tokens_revoke(token_id: OAuthTokenId, yes: YesOption = False, as_email: AsOption = None,
                  account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Revoke an OAuth access token and its refresh token."""
    confirm(f"Revoke OAuth token {token_id}?", yes)
    with open_core() as core:
        revoke_oauth_token(core, acting(core, as_email, account), token_id)
        emit(as_json, {"revoked": token_id},
             lambda: out.print(f"Revoked OAuth token {token_id}."))
