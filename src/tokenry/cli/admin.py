"""Operator commands: init, serve, db, accounts, settings and audit."""

from __future__ import annotations

import logging
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
    handled,
    open_core,
    out,
    table,
)
from tokenry.core import Core
from tokenry.domain.settings import check_known, coerce
from tokenry.operations.account_settings import get_account_settings, update_account_settings
from tokenry.operations.accounts import create_account, list_accounts
from tokenry.operations.audit_log import AuditFilter, list_audit_events
from tokenry.operations.bootstrap import bootstrap
from tokenry.operations.context import PageRequest
from tokenry.operations.export_audit_log import export_audit_log
from tokenry.present import audit_json

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts (Zendesk instances).", no_args_is_help=True)
settings_app = typer.Typer(help="Per-account settings.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)


def _bootstrap_and_report(core: Core) -> None:
    report = bootstrap(core)
    if report is None:
        return
    out.print(f"Created the default account and its first admin: {report.admin_email}")
    if report.admin_password:
        out.print(f"One-time password (shown only now): {report.admin_password}",
                  highlight=False)


def init() -> None:
    """Create or upgrade the schema, then create the default account and first admin."""
    with open_core(check_schema=False) as core:
        core.db.upgrade()
        _bootstrap_and_report(core)
        out.print(f"tokenry is ready ({core.db.engine.url.render_as_string()})")


def serve(host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
          port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None) -> None:
    """Run the HTTP server (refuses to start on an out-of-date schema)."""
    import uvicorn  # the web stack loads only for the command that serves

    from tokenry.http.app import create_app
    from tokenry.logs import logging_config
    from tokenry.runtime import tune_garbage_collector

    with open_core() as core:
        _bootstrap_and_report(core)
        settings = core.settings
        app = create_app(settings, core)
        tune_garbage_collector()
        with handled():
            # One logging configuration for tokenry's lines and uvicorn's: same format, a
            # request id on each, secrets in paths redacted, tokenry's INFO lines kept.
            # Access lines are INFO: below that level uvicorn is told not to build them at
            # all (it would format each request's line before the logger drops it).
            level = logging.getLevelName(settings.log_level.upper())
            access_log = not isinstance(level, int) or level <= logging.INFO
            uvicorn.run(app, host=host or settings.host, port=port or settings.port,
                        log_config=logging_config(settings), log_level=settings.log_level,
                        access_log=access_log, server_header=False,  # no software banner
                        proxy_headers=bool(settings.forwarded_allow_ips),
                        forwarded_allow_ips=settings.forwarded_allow_ips or None)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    with open_core(check_schema=False) as core:
        core.db.upgrade()
        out.print(f"Schema is at revision {core.db.current_revision()}.")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision and the one this tokenry needs."""
    with open_core(check_schema=False) as core:
        out.print(f"current: {core.db.current_revision()}  needed: {core.db.head_revision()}")


@accounts_app.command("list")
def accounts_list(as_json: JsonOption = False) -> None:
    """List accounts."""
    with open_core() as core:
        rows = [{"id": a.id, "subdomain": a.subdomain, "name": a.name}
                for a in list_accounts(core)]
        emit(as_json, {"accounts": rows}, lambda: table(
            ["id", "subdomain", "name"], [tuple(r.values()) for r in rows]))


@accounts_app.command("create")
def accounts_create(subdomain: str,
                    name: Annotated[str | None, typer.Option()] = None,
                    as_json: JsonOption = False) -> None:
    """Create an account; add its admins with `tokenry users create --account SUBDOMAIN`."""
    with open_core() as core:
        account = create_account(core, subdomain=subdomain, name=name)
        row = {"id": account.id, "subdomain": account.subdomain, "name": account.name}
        emit(as_json, {"account": row},
             lambda: out.print(f"Created account {account.subdomain} (id {account.id})."))


@settings_app.command("get")
def settings_get(key: Annotated[str | None, typer.Argument()] = None,
                 as_email: AsOption = None, account: AccountOption = None,
                 as_json: JsonOption = False) -> None:
    """Show the account's settings, or one of them."""
    with open_core() as core:
        values = get_account_settings(core, acting(core, as_email, account)).as_dict()
        if key is not None:
            check_known(key)
            values = {key: values[key]}
        emit(as_json, {"settings": values},
             lambda: table(["setting", "value"], list(values.items())))


@settings_app.command("set")
def settings_set(key: str, value: str, yes: YesOption = False, as_email: AsOption = None,
                 account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Change one setting, e.g. `tokenry settings set token_access off`."""
    with open_core() as core:
        new_value = coerce(key, value)
        if key == "token_access" and new_value is False:
            confirm("Turning token access off deactivates every active token. Continue?", yes)
        values = update_account_settings(core, acting(core, as_email, account),
                                         {key: new_value}).as_dict()
        emit(as_json, {"settings": values},
             lambda: out.print(f"{key} is now {values[key]}."))


@audit_app.command("list")
def audit_list(source_id: Annotated[int | None, typer.Option(help="Token or user id.")] = None,
               source_type: Annotated[str | None, typer.Option()] = None,
               actor_id: Annotated[int | None, typer.Option()] = None,
               action: Annotated[str | None, typer.Option()] = None,
               since: Annotated[datetime | None, typer.Option()] = None,
               until: Annotated[datetime | None, typer.Option()] = None,
               page: int = 1, per_page: int = 100, as_email: AsOption = None,
               account: AccountOption = None, as_json: JsonOption = False) -> None:
    """Show audit events, newest first."""
    with open_core() as core:
        filters = AuditFilter(source_type=source_type, source_id=source_id, actor_id=actor_id,
                              action=action, since=_aware(since), until=_aware(until))
        result = list_audit_events(core, acting(core, as_email, account), filters,
                                   PageRequest(page, per_page))
        events = [audit_json(e) for e in result.items]
        emit(as_json, {"audit_logs": events, "count": result.count}, lambda: table(
            ["time", "actor", "action", "source", "change"],
            [(e["created_at"], e["actor_name"], e["tokenry_action"],
              f"{e['source_type']} {e['source_id'] or ''} {e['source_label']}",
              e["change_description"]) for e in events]))


@audit_app.command("export")
def audit_export(source_id: Annotated[int | None, typer.Option(help="Token or user id.")] = None,
                 source_type: Annotated[str | None, typer.Option()] = None,
                 actor_id: Annotated[int | None, typer.Option()] = None,
                 action: Annotated[str | None, typer.Option()] = None,
                 ip_address: Annotated[str | None, typer.Option()] = None,
                 since: Annotated[datetime | None, typer.Option()] = None,
                 until: Annotated[datetime | None, typer.Option()] = None,
                 as_email: AsOption = None, account: AccountOption = None,
                 as_json: JsonOption = False) -> None:
    """E-mail the audit log (these filters, newest first) as a CSV file to the acting admin."""
    with open_core() as core:
        filters = AuditFilter(source_type=source_type, source_id=source_id, actor_id=actor_id,
                              action=action, ip_address=ip_address, since=_aware(since),
                              until=_aware(until))
        done = export_audit_log(core, acting(core, as_email, account), filters)
        emit(as_json, {"audit_log_export": {"status": "queued", "count": done.count,
                                            "recipient": done.recipient,
                                            "filename": done.filename,
                                            "audit_log_id": done.audit_log_id}},
             lambda: out.print(f"Queued {done.filename} ({done.count:,} events) for "
                               f"{done.recipient}."))


def _aware(moment: datetime | None) -> datetime | None:
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment
