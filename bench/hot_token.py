"""One hot token's latency against the same server's ``/healthz``, at the default settings.

Run it as ``.venv/bin/python bench/hot_token.py [--database postgresql://...]`` (default: the
local test database, ``postgresql://postgres@127.0.0.1:5432/test``, in a schema of its own
that is dropped afterwards). It needs ``wrk``.

``tokenry serve`` runs with every cache setting at its default (``TOKENRY_VERIFY_CACHE_TTL``
2 s, ``TOKENRY_VERIFY_CACHE_TTL_LISTENING`` 300 s). ``wrk --latency`` with 32 connections
then alternates, for several rounds, between ``GET /healthz`` (no authentication, no I/O: the
baseline) and ``GET /api/v2/users/me.json`` with one token on every request. Before the
verification cache refreshed ahead and shared one lookup per key, every entry of that token
ended together every 2 s and all requests in flight went to the database at once: its p99 was
4x the long-TTL figure. The target: the hot token's p99 within 1.5x of ``/healthz``'s.

The table shows each route's median p50, p99 and rate over the rounds, the p99's spread
(lowest-highest round), the per-round p99 ratios and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pg_schema import scratch_schema
from tokenry.config import Settings
from tokenry.core import build_core
from verify import (
    CONNECTIONS,
    HEALTH_PATH,
    ME_PATH,
    SECRET_KEY,
    BenchError,
    basic_header,
    log,
    machine_note,
    populate,
    preflight,
    running_server,
    server_env,
)

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
TARGET = 1.5  # hot token p99 / healthz p99, at most
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Run:
    p50: float  # milliseconds
    p99: float
    rate: float


def wrk_latency(url: str, headers: dict[str, str], seconds: int) -> Run:
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=False)
    output = done.stdout
    if done.returncode != 0 or "Non-2xx" in output or "Socket errors" in output:
        raise BenchError(f"wrk on {url} failed or saw errors:\n{output}{done.stderr}")

    def percentile(name: str) -> float:
        found = re.search(rf"^\s+{name}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if found is None:
            raise BenchError(f"no {name}% line in wrk's output:\n{output}")
        return float(found.group(1)) * UNITS[found.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rate is not None
    return Run(percentile("50"), percentile("99"), float(rate.group(1)))


def measure(database: str, rounds: int, seconds: int) -> dict[str, list[Run]]:
    with tempfile.TemporaryDirectory(prefix="tokenry-hot-") as name, \
            scratch_schema(database) as url:
        assert url is not None
        directory = Path(name)
        core = build_core(Settings(database_url=url, secret_key=SECRET_KEY))
        try:
            fix = populate(core, directory, 8)
        finally:
            core.close()
        env = server_env(fix)
        del env["TOKENRY_VERIFY_CACHE_TTL"]  # the defaults, as shipped
        header = basic_header(fix.email, fix.secrets[0])
        routes = {"GET /healthz (no auth)": (HEALTH_PATH, {}),
                  "GET /api/v2/users/me.json (one hot token)": (ME_PATH,
                                                                {"Authorization": header})}
        runs: dict[str, list[Run]] = {route: [] for route in routes}
        with running_server(fix, env) as server:
            preflight(server.url, header, fix.email)
            for path, headers in routes.values():  # warm-up, not reported
                wrk_latency(server.url + path, headers, 2)
            for number in range(rounds):
                for route, (path, headers) in routes.items():
                    runs[route].append(wrk_latency(server.url + path, headers, seconds))
                    last = runs[route][-1]
                    log(f"round {number + 1}: {route}: p50 {last.p50:.2f} ms, "
                        f"p99 {last.p99:.2f} ms, {last.rate:,.0f} req/s")
    return runs


def report(runs: dict[str, list[Run]], rounds: int, seconds: int) -> None:
    base_runs, hot_runs = runs.values()
    base_p99 = statistics.median(r.p99 for r in base_runs)
    print(f"\nOne hot token vs /healthz, `tokenry serve` on PostgreSQL at default settings "
          f"(wrk -t1 -c{CONNECTIONS} --latency; median of {rounds} alternating rounds x "
          f"{seconds}s)")
    columns = ["route", "p50 ms", "p99 ms", "p99 spread", "req/s", "p99 vs base"]
    table = [columns]
    for route, route_runs in runs.items():
        p99s = [r.p99 for r in route_runs]
        p99 = statistics.median(p99s)
        table.append([route, f"{statistics.median(r.p50 for r in route_runs):.2f}",
                      f"{p99:.2f}", f"{min(p99s):.2f}-{max(p99s):.2f}",
                      f"{statistics.median(r.rate for r in route_runs):,.0f}",
                      f"{p99 / base_p99:.2f}x"])
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print("  " + "  ".join([line[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(line[1:], widths[1:],
                                                             strict=True)]))
    ratios = [h.p99 / b.p99 for h, b in zip(hot_runs, base_runs, strict=True)]
    ratio = statistics.median(r.p99 for r in hot_runs) / base_p99
    print("per-round p99 ratios (spread = noise): " + " ".join(f"{r:.2f}" for r in ratios))
    print(f"target: hot token p99 / healthz p99 <= {TARGET:.2f}x: "
          f"{'MET' if ratio <= TARGET else 'NOT MET'} ({ratio:.2f}x)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help="a PostgreSQL URL (a scratch schema is made in it)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("bench/hot_token.py: error: needs wrk (apt-get install wrk)", file=sys.stderr)
        return 1
    load_before = os.getloadavg()[0]
    try:
        runs = measure(args.database, max(1, args.rounds), max(1, args.seconds))
    except BenchError as error:
        print(f"bench/hot_token.py: error: {error}", file=sys.stderr)
        return 1
    report(runs, args.rounds, args.seconds)
    machine_note(load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
