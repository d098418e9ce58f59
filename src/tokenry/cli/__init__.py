"""The ``tokenry`` command line. It calls the same operations as the HTTP API."""

from __future__ import annotations

import typer

from tokenry.cli import admin, backup, jobs, oauth, reports, requests, secret, tokens, users

app = typer.Typer(name="tokenry", help="tokenry: a self-hosted authority for admin API tokens.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"tokenry {version('tokenry')}")
        raise typer.Exit()


@app.callback()
def _root(_version_flag: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")) -> None:
    """tokenry: a self-hosted authority for admin API tokens."""
app.command("init")(admin.init)
app.command("serve")(admin.serve)
app.add_typer(admin.db_app, name="db")
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.add_typer(admin.accounts_app, name="accounts")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(oauth.app, name="oauth")
app.add_typer(requests.app, name="requests")
app.add_typer(admin.settings_app, name="settings")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(jobs.app, name="jobs")
app.add_typer(reports.app, name="report")
app.add_typer(secret.app, name="secret")


def main() -> None:
    app()
