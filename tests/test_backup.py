"""``tokenry backup``: a consistent copy taken while a writer keeps going, restored into a fresh
place (a copied SQLite file; ``pg_restore`` into a new PostgreSQL database), where a token made
before the backup still authenticates with the same server secret and with no other.
A backup that fails leaves nothing at its destination or beside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.conftest import ADMIN_EMAIL, SECRET_KEY, me_status
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.http.app import create_app
from tokenry.operations.bootstrap import SecretMismatch
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.update_token import update_token
from tokenry.storage.backup import pg_dump_call, search_path_schema
from tokenry.storage.models import ApiToken, AuditEvent

Cli = Callable[..., Any]


class Writer(threading.Thread):
    """Renames one token again and again: each rename is a token row change and an audit event
    in one transaction, so a consistent copy holds exactly as many renames as the name says."""

    def __init__(self, core: Core, actor: Actor, token_id: int) -> None:
        super().__init__(daemon=True)
        self.core, self.actor, self.token_id = core, actor, token_id
        self.renames = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                update_token(self.core, self.actor, self.token_id,
                             {"description": f"rename {self.renames + 1}"})
                self.renames += 1
        except BaseException as error:  # the test reports it
            self.error = error

    def wait_for(self, renames: int) -> None:
        while self.renames < renames and self.error is None and self.is_alive():
            self.stop.wait(0.01)


@contextmanager
def restored(core: Core, dump: Path, tmp_path: Path, secret_key: str) -> Iterator[Core]:
    """A core on a fresh copy of the backup: a copied SQLite file, or a new PostgreSQL
    database that ``pg_restore`` fills (the schema keeps its name there)."""
    url = make_url(core.settings.database_url)
    if core.settings.is_sqlite:
        copy = tmp_path / f"restored-{uuid.uuid4().hex[:8]}" / "tokenry.db"
        copy.parent.mkdir()
        shutil.copyfile(dump, copy)
        fresh = f"sqlite:///{copy}"
        with _core_on(fresh, tmp_path, secret_key) as restored_core:
            yield restored_core
        return
    database = f"r_{uuid.uuid4().hex[:12]}"
    admin_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url.split("?")[0], autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        target = url.set(drivername="postgresql", database=database, query={})
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                        f"--dbname={target.render_as_string(hide_password=False)}", str(dump)],
                       check=True, capture_output=True)
        fresh = url.set(database=database).render_as_string(hide_password=False)
        with _core_on(fresh, tmp_path, secret_key) as restored_core:
            yield restored_core
    finally:
        with psycopg.connect(admin_url.split("?")[0], autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def _core_on(database_url: str, tmp_path: Path, secret_key: str) -> Iterator[Core]:
    settings = Settings(database_url=database_url, secret_key=secret_key,
                        admin_email=ADMIN_EMAIL, base_url="http://testserver",
                        secret_key_file=tmp_path / "restored.secret", scheduler_enabled=False)
    restored_core = build_core(settings)
    try:
        restored_core.db.check_schema()
        yield restored_core
    finally:
        restored_core.close()


def test_backup_taken_during_writes_restores_a_working_token(
        core: Core, admin_actor: Actor, cli: Cli, tmp_path: Path) -> None:
    kept = create_token(core, admin_actor, description="made before the backup")
    busy = create_token(core, admin_actor, description="rename 0")
    writer = Writer(core, admin_actor, busy.token.id)
    writer.start()
    try:
        writer.wait_for(20)
        result = cli("backup", str(tmp_path / "tokenry.backup"), "--json")
        renames_at_backup = writer.renames
        writer.wait_for(renames_at_backup + 10)  # the server went on writing meanwhile
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["backup"]
    dump = Path(report["path"])
    assert dump == tmp_path / "tokenry.backup"
    assert report["size"] == dump.stat().st_size > 0
    assert report["revision"] == core.db.head_revision()
    assert report["secret_not_included"] == "TOKENRY_SECRET_KEY"
    assert oct(dump.stat().st_mode & 0o777) == oct(0o600)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    with restored(core, dump, tmp_path, SECRET_KEY) as copy:
        with copy.db.read() as session:
            name = session.scalar(select(ApiToken.description)
                                  .where(ApiToken.id == busy.token.id))
            events = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.source_id == busy.token.id, AuditEvent.action == "update"))
        # One snapshot: the token's name and its audit events agree, taken mid-stream.
        assert name == f"rename {events}"
        assert 20 <= (events or 0) < writer.renames
        with TestClient(create_app(copy.settings, copy)) as client:
            assert me_status(client, ADMIN_EMAIL, kept.secret) == 200

    # With another secret no token could verify, and the server says so rather than start.
    with restored(core, dump, tmp_path, "another-secret-" + "z" * 40) as copy, \
            pytest.raises(SecretMismatch), TestClient(create_app(copy.settings, copy)):
        pass


def test_backup_says_the_secret_is_not_in_it(core: Core, cli: Cli, tmp_path: Path) -> None:
    result = cli("backup", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.split())
    assert f"Wrote {tmp_path / 'b'}" in words
    assert f"Schema revision: {core.db.head_revision()}." in words
    assert "Not in the backup: the server secret (TOKENRY_SECRET_KEY)" in words
    assert SECRET_KEY not in result.output


def test_existing_destination_is_kept_unless_forced(core: Core, cli: Cli,
                                                    tmp_path: Path) -> None:
    dest = tmp_path / "tokenry.backup"
    dest.write_text("an older backup")
    refused = cli("backup", str(dest))
    assert refused.exit_code == 1
    assert "already exists; nothing was written (pass --force to replace it)" in \
        " ".join(refused.output.split())
    assert dest.read_text() == "an older backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in tmp_path.iterdir() if not p.name.startswith(".tokenry.backup"))

    forced = cli("backup", str(dest), "--force")
    assert forced.exit_code == 0, forced.output
    assert dest.stat().st_size > len("an older backup")


def test_destination_that_cannot_be_written_is_a_clear_error(core: Core, cli: Cli,
                                                             tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-directory"
    a_file.write_text("")
    result = cli("backup", str(a_file / "tokenry.backup"))
    assert result.exit_code == 1  # the message wraps wherever the path's length puts it
    assert "does not exist" in " ".join(result.output.split())
    directory = cli("backup", str(tmp_path))
    assert directory.exit_code == 1
    assert "is a directory" in " ".join(directory.output.split())


def test_backup_onto_the_live_database_is_refused(core: Core, cli: Cli) -> None:
    if not core.settings.is_sqlite:
        pytest.skip("only a SQLite database is a file")
    live = Path(make_url(core.settings.database_url).database or "")
    before = live.stat().st_size
    result = cli("backup", str(live), "--force")
    assert result.exit_code == 1
    assert "is the live database itself" in " ".join(result.output.split())
    assert live.stat().st_size == before
    core.db.check_schema()


def test_a_full_disk_mid_backup_leaves_no_partial_file(core: Core, cli_env: dict[str, str],
                                                       tmp_path: Path) -> None:
    """A file size limit stands in for a full disk: the copy fails after it began."""
    out = tmp_path / "out"
    out.mkdir()
    limit = 16 * 1024
    program = ("import resource, signal, sys\n"
               "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
               f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
               "from tokenry.cli import main\n"
               "sys.argv = ['tokenry', 'backup', sys.argv[1]]\n"
               "main()\n")
    env = {**os.environ, **cli_env, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    result = subprocess.run([sys.executable, "-c", program, str(out / "tokenry.backup")],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error:" in result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.postgres
def test_missing_pg_dump_is_a_clear_error(core: Core, cli_env: dict[str, str],
                                          tmp_path: Path) -> None:
    if core.settings.is_sqlite:
        pytest.skip("SQLite needs no pg_dump")
    from typer.testing import CliRunner

    from tokenry.cli import app

    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(app, ["backup", str(out / "tokenry.backup")],
                                env={**cli_env, "PATH": str(empty)})
    assert result.exit_code == 1
    assert "pg_dump was not found on PATH" in " ".join(result.output.split())
    assert list(out.iterdir()) == []


def test_pg_dump_gets_the_password_from_the_environment_not_its_arguments(
        tmp_path: Path) -> None:
    url = ("postgresql+psycopg://tokenry:s3cr%40t@db.internal:5433/auth"
           "?options=-csearch_path%3Dt_abc&sslmode=require")
    call = pg_dump_call(url, tmp_path / "x.dump")
    assert not any("s3cr" in word for word in call.argv)
    assert call.env["PGPASSWORD"] == "s3cr@t"
    assert (call.env["PGHOST"], call.env["PGPORT"], call.env["PGUSER"],
            call.env["PGDATABASE"], call.env["PGSSLMODE"]) == (
        "db.internal", "5433", "tokenry", "auth", "require")
    assert "--schema=t_abc" in call.argv and "--format=custom" in call.argv
    assert "--no-password" in call.argv
    no_password = pg_dump_call("postgresql://tokenry@db/auth", tmp_path / "y.dump")
    assert "PGPASSWORD" not in no_password.env
    assert no_password.env["PGPASSFILE"] == os.devnull
    assert not any(word.startswith("--schema") for word in no_password.argv)


@pytest.mark.parametrize(("options", "schema"), [
    ("-csearch_path%3Dt_abc", "t_abc"),
    ("-c%20search_path%3Dt_abc,public", "t_abc"),
    ("-cstatement_timeout%3D0%20-csearch_path%3D%22Mixed%22", "Mixed"),
    ("-csearch_path%3D%24user,public", None),
    ("-cstatement_timeout%3D0", None),
])
def test_the_dumped_schema_is_the_first_of_the_search_path(options: str,
                                                           schema: str | None) -> None:
    url = make_url(f"postgresql://u@h/db?options={options}")
    assert search_path_schema(url) == schema


def test_restore_puts_the_backup_back_and_upgrades_it(
        core: Core, admin_actor: Actor, cli: Cli, tmp_path: Path) -> None:
    before = create_token(core, admin_actor, description="made before the backup")
    dump = tmp_path / "tokenry.backup"
    assert cli("backup", str(dump)).exit_code == 0
    after = create_token(core, admin_actor, description="made after the backup")

    result = cli("restore", str(dump), "--yes")
    assert result.exit_code == 0, result.output
    assert f"the schema is now at revision {core.db.head_revision()}" in \
        " ".join(result.output.split())
    current = cli("db", "current")
    assert f"current: {core.db.head_revision()}" in current.output
    with _core_on(core.settings.database_url, tmp_path, SECRET_KEY) as fresh, \
            TestClient(create_app(fresh.settings, fresh)) as client:
        assert me_status(client, ADMIN_EMAIL, before.secret) == 200
        assert me_status(client, ADMIN_EMAIL, after.secret) == 401


def test_restore_refuses_a_backup_of_another_secret_and_changes_nothing(
        core: Core, admin_actor: Actor, cli_env: dict[str, str], cli: Cli,
        tmp_path: Path) -> None:
    dump = tmp_path / "tokenry.backup"
    assert cli("backup", str(dump)).exit_code == 0
    after = create_token(core, admin_actor, description="made after the backup")
    from typer.testing import CliRunner

    from tokenry.cli import app

    other = {**cli_env, "TOKENRY_SECRET_KEY": "another-secret-" + "z" * 40}
    refused = CliRunner().invoke(app, ["restore", str(dump), "--yes"], env=other)
    assert refused.exit_code == 2
    assert "another server secret" in " ".join(refused.output.split())
    assert "nothing was restored" in " ".join(refused.output.split())

    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(b"not a backup at all" * 100)
    broken = cli("restore", str(garbage), "--yes")
    assert broken.exit_code == 1
    assert "nothing was restored" in " ".join(broken.output.split())

    with _core_on(core.settings.database_url, tmp_path, SECRET_KEY) as fresh, \
            TestClient(create_app(fresh.settings, fresh)) as client:
        assert me_status(client, ADMIN_EMAIL, after.secret) == 200


@pytest.mark.postgres
def test_restore_refuses_a_dump_of_another_schema(core: Core, cli_env: dict[str, str],
                                                  cli: Cli, tmp_path: Path) -> None:
    if core.settings.is_sqlite:
        pytest.skip("a SQLite backup has no schema name")
    dump = tmp_path / "tokenry.backup"
    assert cli("backup", str(dump)).exit_code == 0
    from typer.testing import CliRunner

    from tokenry.cli import app

    url = make_url(core.settings.database_url)
    schema = search_path_schema(url)
    elsewhere = url.update_query_dict({"options": "-csearch_path=t_elsewhere"})
    env = {**cli_env, "TOKENRY_DATABASE_URL": elsewhere.render_as_string(hide_password=False)}
    refused = CliRunner().invoke(app, ["restore", str(dump), "--yes"], env=env)
    assert refused.exit_code == 1
    assert f"holds the schema {schema}, but tokenry is configured for t_elsewhere" in \
        " ".join(refused.output.split())
