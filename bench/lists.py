"""Lists at a million rows: every documented audit log filter and the token list, over HTTP.

Run it as ``.venv/bin/python bench/lists.py`` (``--database``: the PostgreSQL
server; ``--requests``, ``--rounds``). It uses the scale data set of ``bench/scale_data.py``
(one account with 1,000,000 API tokens and 1,000,000 audit events, built once and kept) and
reads it only through a real ``tokenry serve`` child process on a free loopback port, so it
changes nothing in it.

Each row is one request, sent ``--requests`` times in a row per round on one keep-alive
connection, the rows interleaved round by round so that a busy moment on the machine falls
on all of them. Rows:

* ``GET /healthz`` (the baseline: the HTTP stack, no database) and ``GET users/me`` (an
  authenticated cheap route: the token check and one small read);
* the audit log: offset page 1 (with its ``count``) and cursor page 1 with no filter, each
  documented filter (``filter[source_type]``, ``filter[source_id]``, both, ``filter[actor_id]``,
  ``filter[action]`` in tokenry's words and in Zendesk's, which name several of tokenry's,
  ``filter[tokenry_action]``, ``filter[ip_address]``, ``filter[created_at]`` ranges,
  oldest first) as a cursor page and as offset page 1, and cursor pages in the middle and at
  the end of the log and of a filtered list;
* the token list: offset page 1, cursor page 1, a cursor page at the end, and the list with
  no paging parameter (past 2,048 tokens, its first numbered page).

``p50``/``p95`` are over every request of the row; ``p95 spread`` is the lowest and highest
p95 of a single round; ``x healthz`` is the row's p95 over the same run's ``/healthz`` p95;
``server CPU ms`` is the server process's CPU time per request (not the database's), which
other work on the machine changes far less than it changes the elapsed times.
The targets (issue 10): p95 at most 20 ms for every audit filter and cursor page at any depth,
offset page 1 within 50 ms, token list page 1 within 20 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg

import tokenry
from scale_data import DEFAULT_URL, ScaleData, ensure, with_schema
from tokenry.domain.audit import actions_reading_as
from tokenry.operations.paging import encode_cursor
from tokenry.storage.models import ApiToken, AuditEvent

HOST = "127.0.0.1"
AUDIT = "/api/v2/audit_logs.json"
TOKENS = "/api/v2/api_tokens.json"
AUDIT_KEYS = [AuditEvent.created_at, AuditEvent.id]


@dataclass
class Row:
    name: str
    path: str
    params: list[tuple[str, str]]
    target_ms: float | None
    times: list[list[float]] = field(default_factory=list)  # seconds, one list per round
    cpu: float = 0.0  # the server process's CPU seconds over every timed request

    @property
    def every(self) -> list[float]:
        return [t for one in self.times for t in one]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(data: ScaleData, folder: Path) -> Iterator[tuple[str, int]]:
    """``tokenry serve`` on the data set (the tokenry of this checkout), always stopped."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENRY_")}
    env.update(data.env(), TOKENRY_LOG_LEVEL="warning",
               PYTHONPATH=str(Path(tokenry.__file__).parents[1]))  # this checkout's tokenry
    command = [sys.executable, "-c", "from tokenry.cli import main; main()",
               "serve", "--host", HOST, "--port", str(port)]
    log = folder / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=folder, env=env, stdout=output,
                                  stderr=subprocess.STDOUT)
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def cursors(data: ScaleData) -> dict[str, str]:
    """Cursors into the middle and the end of the lists, as the server would give them out
    (the same encoding), found with plain SQL on the data set (read only)."""
    update = sorted(actions_reading_as("update"))
    with psycopg.connect(data.url) as connection:
        def event_at(where: str, args: tuple[Any, ...], fraction: float) -> str:
            total = connection.execute(
                f"SELECT count(*) FROM audit_events WHERE {where}", args).fetchone()  # noqa: S608
            assert total is not None
            row = connection.execute(
                f"SELECT created_at, id FROM audit_events WHERE {where} "  # noqa: S608
                "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                (*args, int(total[0] * fraction))).fetchone()
            assert row is not None
            return encode_cursor(SimpleNamespace(created_at=row[0], id=row[1]), AUDIT_KEYS)

        found = {
            "audit middle": event_at("true", (), 0.5),
            "audit end": event_at("true", (), 1.0 - 50 / data.events),
            "update middle": event_at("action = ANY(%s)", (update,), 0.5),
        }
        token = connection.execute("SELECT id FROM api_tokens ORDER BY id DESC OFFSET 50 "
                                   "LIMIT 1").fetchone()
        assert token is not None
        found["token end"] = encode_cursor(SimpleNamespace(id=token[0]), [ApiToken.id])
        source = connection.execute("SELECT source_id FROM audit_events WHERE source_type = "
                                    "'api_token' ORDER BY id LIMIT 1 OFFSET 1000").fetchone()
        assert source is not None
        found["source_id"] = str(source[0])
    return found


def visibility(data: ScaleData) -> str:
    """How much of each table VACUUM has marked all-visible: without it (autovacuum off, or not
    yet run) every index-only scan still visits the table, and counts cost more."""
    with psycopg.connect(data.url) as connection:
        found = connection.execute(
            "SELECT relname, relallvisible, relpages FROM pg_class WHERE relname IN "
            "('audit_events', 'api_tokens') AND relnamespace = "
            "(SELECT oid FROM pg_namespace WHERE nspname = %s) ORDER BY relname",
            (data.schema,)).fetchall()
    return ", ".join(f"{name} {seen}/{pages}" for name, seen, pages in found)


def rows(at: dict[str, str]) -> list[Row]:
    cursor = [("page[size]", "100")]
    week = [("filter[created_at][]", "2026-05-01T00:00:00Z"),
            ("filter[created_at][]", "2026-05-08T00:00:00Z")]
    filters: list[tuple[str, list[tuple[str, str]]]] = [
        ("source_type=apitoken", [("filter[source_type]", "apitoken")]),
        ("source_type=oauth_client (2%)", [("filter[source_type]", "oauth_client")]),
        ("source_type=account (1 event)", [("filter[source_type]", "account")]),
        ("source_id", [("filter[source_id]", at["source_id"])]),
        ("source_type+source_id", [("filter[source_type]", "api_token"),
                                   ("filter[source_id]", at["source_id"])]),
        ("actor_id", [("filter[actor_id]", "7")]),
        ("action=login (one action)", [("filter[action]", "login")]),
        ("action=update (Zendesk: 15)", [("filter[action]", "update")]),
        ("action=destroy (Zendesk: 2)", [("filter[action]", "destroy")]),
        ("action=create (Zendesk: 5)", [("filter[action]", "create")]),
        ("tokenry_action=deny (rare)", [("filter[tokenry_action]", "deny")]),
        ("ip_address", [("filter[ip_address]", "10.0.7.7")]),
        ("created_at, one week", week),
        ("created_at twice, one week", [("filter[created_at]", v) for _, v in week]),
        ("oldest first", [("sort_order", "asc")]),
        ("action=update, oldest first", [("filter[action]", "update"), ("sort", "created_at")]),
    ]
    found = [Row("GET /healthz (baseline)", "/healthz", [], None),
             Row("GET users/me (auth baseline)", "/api/v2/users/me.json", [], None),
             Row("audit offset page 1", AUDIT, [], 50),
             Row("audit cursor page 1", AUDIT, cursor, 20),
             Row("audit cursor, middle", AUDIT, [*cursor, ("page[after]", at["audit middle"])],
                 20),
             Row("audit cursor, last", AUDIT, [*cursor, ("page[after]", at["audit end"])], 20),
             Row("audit cursor, back from middle", AUDIT,
                 [*cursor, ("page[before]", at["audit middle"])], 20)]
    for name, params in filters:
        found.append(Row(f"cursor: {name}", AUDIT, [*params, *cursor], 20))
        found.append(Row(f"offset 1: {name}", AUDIT, params, 50))
    found += [Row("cursor: action=update, middle", AUDIT,
                  [("filter[action]", "update"), *cursor, ("page[after]", at["update middle"])],
                  20),
              Row("tokens offset page 1", TOKENS, [("per_page", "100")], 20),
              Row("tokens cursor page 1", TOKENS, cursor, 20),
              Row("tokens cursor, last", TOKENS, [*cursor, ("page[after]", at["token end"])],
                  20),
              Row("tokens, no paging (first 100)", TOKENS, [], 20)]
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, pid: int, header: str, table: list[Row], requests: int,
        rounds: int) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": header}, timeout=60) as client:
        for row in table:  # warm: the connection, the token cache, the pages the rows read
            for _ in range(3):
                answer = client.get(row.path, params=row.params)
                if answer.status_code != 200:
                    raise SystemExit(f"{row.name}: {answer.status_code} {answer.text[:300]}")
        for _ in range(rounds):
            for row in table:
                times = []
                cpu = cpu_seconds(pid)
                for _ in range(requests):
                    start = time.perf_counter()
                    answer = client.get(row.path, params=row.params)
                    times.append(time.perf_counter() - start)
                    assert answer.status_code == 200, (row.name, answer.text[:200])
                row.times.append(times)
                row.cpu += cpu_seconds(pid) - cpu


def report(table: list[Row], requests: int, rounds: int, load_before: float) -> None:
    base = p95(table[0].every)
    print(f"\nLists on 1,000,000 audit events and 1,000,000 tokens in one account, over HTTP "
          f"({requests} requests x {rounds} rounds per row, sequential, one connection)")
    lines = [("row", "p50 ms", "p95 ms", "p95 spread", "x healthz", "server CPU ms", "target",
              "")]
    missed = []
    for row in table:
        every = row.every
        spread = [p95(times) * 1000 for times in row.times]
        high = p95(every) * 1000
        verdict = ""
        if row.target_ms is not None:
            verdict = "met" if high <= row.target_ms else "MISSED"
            if verdict == "MISSED":
                missed.append(row.name)
        lines.append((row.name, f"{statistics.median(every) * 1000:.1f}", f"{high:.1f}",
                      f"{min(spread):.1f}-{max(spread):.1f}", f"{p95(every) / base:.1f}x",
                      f"{row.cpu / len(every) * 1000:.1f}",
                      f"{row.target_ms:.0f} ms" if row.target_ms else "", verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        print("  " + "  ".join([line[0].ljust(widths[0])] +
                               [cell.rjust(width) for cell, width in
                                zip(line[1:], widths[1:], strict=True)]))
    print(f"\nmachine: {os.cpu_count()} cores, 1-minute load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after (this run included)")
    if load_before > 1.0:
        print("note: other work shared the CPU; absolute times are inflated, compare the ratios")
    print("targets missed: " + (", ".join(missed) if missed else "none"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_URL, help="the PostgreSQL server")
    parser.add_argument("--requests", type=int, default=30, help="requests per row per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="run only the rows whose name holds this text")
    parser.add_argument("--schema", help="read a copy of the data set in this schema instead "
                                         "(for example one VACUUMed, as autovacuum would)")
    args = parser.parse_args()
    data = ensure(args.database)
    if args.schema:
        data = replace(data, url=with_schema(args.database, args.schema), schema=args.schema)
    visible = visibility(data)
    table = rows(cursors(data))
    if args.only:
        table = table[:1] + [row for row in table[1:] if args.only in row.name]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder, serving(data, Path(folder)) as (url, pid):
        run(url, pid, data.header(0), table, args.requests, args.rounds)
    report(table, args.requests, args.rounds, load_before)
    print(f"data set: schema {data.schema}; pages marked all-visible (so an index-only scan "
          f"skips the table): {visible}")


if __name__ == "__main__":
    main()
