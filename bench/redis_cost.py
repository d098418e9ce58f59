"""What sharing the rate limit through Redis costs a cache-hit request (issue 10).

Run it as ``PYTHONPATH=src .venv/bin/python bench/redis_cost.py`` with Redis reachable
(``--redis URL``, default ``redis://127.0.0.1:6379/0``; its keys live under a prefix of their
own and are deleted at the end). It builds the same SQLite fixture as ``bench/verify.py``
(a few tokens, cache TTL 300 s) and starts two ``tokenry serve`` processes on it: one alone,
one with ``TOKENRY_REDIS_URL``. Load comes from wrk (32 connections) as in ``verify.py``;
the four cells (each server's ``GET /healthz`` and ``GET /api/v2/users/me.json``) alternate
for several rounds and the table shows medians:

* ``rate vs own healthz``: the authenticated route against the same server's ``/healthz``
  (the target without Redis: >= 0.85x);
* ``with Redis / alone``: the authenticated route's rate with Redis against without, per round
  and as a median: what one ``INCR`` per request (the shared rate limit) costs.

A failed authentication costs one more round trip (the shared failure count), and usage one
list push per node every flush interval: neither is on the cache-hit path measured here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis

from verify import (
    HEALTH_PATH,
    HOST,
    ME_PATH,
    BenchError,
    Fixture,
    Sample,
    Server,
    basic_header,
    fixture,
    free_port,
    log,
    pick_load,
    preflight,
    sample,
    server_env,
    stop,
    tokenry_command,
    wait_healthy,
)


@contextmanager
def server(fix: Fixture, name: str, extra: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    log_path = fix.directory / f"{name}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [tokenry_command(), "serve", "--host", HOST, "--port", str(port)],
            cwd=fix.directory, env=server_env(fix) | extra, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        url = f"http://{HOST}:{port}"
        wait_healthy(url, process, log_path)
        yield Server(url, process)
    finally:
        stop(process)


def table(rows: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in rows) for i in range(len(rows[0]))]
    for line in rows:
        print("  " + "  ".join([line[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(line[1:], widths[1:],
                                                             strict=True)]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    prefix = f"tokenry-bench:{uuid.uuid4().hex[:10]}:"
    label, load = pick_load("auto")
    samples: dict[tuple[str, str], list[Sample]] = {}
    try:
        with fixture(8) as fix:
            header = basic_header(fix.email, fix.secrets[0])
            shared = {"TOKENRY_REDIS_URL": args.redis, "TOKENRY_REDIS_PREFIX": prefix}
            with server(fix, "alone", {}) as alone, server(fix, "redis", shared) as with_redis:
                servers = {"alone": alone, "with Redis": with_redis}
                routes = {"GET /healthz": (HEALTH_PATH, {}),
                          "GET /api/v2/users/me.json": (ME_PATH, {"Authorization": header})}
                for srv in servers.values():
                    preflight(srv.url, header, fix.email)
                    for path, headers in routes.values():  # warm up
                        sample(load, srv, path, headers, 2)
                for round_number in range(args.rounds):
                    for server_name, srv in servers.items():
                        for route, (path, headers) in routes.items():
                            got = sample(load, srv, path, headers, args.seconds)
                            samples.setdefault((server_name, route), []).append(got)
                            log(f"round {round_number + 1}: {server_name} {route}: "
                                f"{got.rate:,.0f} req/s")
    except BenchError as error:
        print(f"bench/redis_cost.py: error: {error}", file=sys.stderr)
        return 1
    finally:
        client = redis.Redis.from_url(args.redis)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
    rows = [["server", "route", "req/s", "server CPU", "rate vs own healthz"]]
    for server_name in ("alone", "with Redis"):
        base = statistics.median(s.rate for s in samples[server_name, "GET /healthz"])
        for route in ("GET /healthz", "GET /api/v2/users/me.json"):
            runs = samples[server_name, route]
            rate = statistics.median(s.rate for s in runs)
            rows.append([server_name, route, f"{rate:,.0f}",
                         f"{statistics.median(s.server_cpu for s in runs):.2f}",
                         f"{rate / base:.2f}x"])
    print(f"\nCache-hit cost of the shared rate limit ({label}; median of {args.rounds} "
          f"alternating rounds x {args.seconds}s)")
    table(rows)
    me_alone = samples["alone", "GET /api/v2/users/me.json"]
    me_redis = samples["with Redis", "GET /api/v2/users/me.json"]
    per_round = [r.rate / a.rate for r, a in zip(me_redis, me_alone, strict=True)]
    print("authenticated route, with Redis / alone, per round: "
          + " ".join(f"{r:.2f}" for r in per_round)
          + f" (median {statistics.median(per_round):.2f}x)")
    print(f"\nmachine: {os.cpu_count()} cores, 1-minute load average {load_before:.2f} before "
          f"and {os.getloadavg()[0]:.2f} after (that one counts this run too)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
