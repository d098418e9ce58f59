"""How soon a second node refuses a token deactivated through the first (issue 10).

Run it as ``PYTHONPATH=src .venv/bin/python bench/revocation.py`` with PostgreSQL reachable
(``--postgres URL``, default the test server). It makes a scratch schema, issues the tokens,
and starts two ``tokenry serve`` processes (A and B) on free loopback ports with the
verification cache TTL at 300 s (``--ttl``), so only invalidation, never expiry, can make B
notice. Then ``--trials`` times, alternating:

* **other node**: a fresh token is verified (and cached) on B and on A; it is deactivated
  with ``PUT /api/v2/api_tokens/{id}`` on A; B is polled back to back until it answers 401.
  The figure is the time from A's answer to B's first 401.
* **same node** (the same-run baseline): the same, polling A itself, which clears its own
  cache on commit: the figure is one request's round trip, the polling's resolution.

The table prints p50, p90, p99, max and the interquartile range of each, their ratio, how
many polls B needed, and the machine's load. The target: other node p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from pg_schema import scratch_schema
from tokenry.config import Settings
from tokenry.core import build_core
from tokenry.operations.bootstrap import bootstrap, bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token

SECRET_KEY = "bench-only-server-secret-" + "x" * 24  # >= 32 chars; never a real secret
ME = "/api/v2/users/me.json"
TARGET_MS = 100.0
POLL_LIMIT_S = 10.0  # a trial that takes longer than this is a failure, not a figure


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def basic(email: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{email}/token:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@dataclass(frozen=True)
class Fixture:
    database_url: str
    email: str
    admin_secret: str
    tokens: list[tuple[int, str]]  # id and secret of each token a trial deactivates


def populate(database_url: str, count: int) -> Fixture:
    settings = Settings(database_url=database_url, secret_key=SECRET_KEY,
                        admin_email="admin@example.com")
    core = build_core(settings)
    try:
        core.db.upgrade()
        bootstrap(core)
        admin = bootstrap_admin(core)
        assert admin is not None
        actor = Actor(account_id=admin.account_id, user_id=admin.id, label=admin.email,
                      via="cli", credential="cli", proves_person=True)
        admin_secret = create_token(core, actor, description="bench admin").secret
        tokens = []
        for n in range(count):
            issued = create_token(core, actor, description=f"revoked {n}")
            tokens.append((issued.token.id, issued.secret))
        return Fixture(settings.database_url, admin.email, admin_secret, tokens)
    finally:
        core.close()


@contextmanager
def node(fix: Fixture, directory: Path, name: str, ttl: float) -> Iterator[str]:
    """``tokenry serve`` on a free port; always stopped."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENRY_")}
    env.update(TOKENRY_DATABASE_URL=fix.database_url, TOKENRY_SECRET_KEY=SECRET_KEY,
               TOKENRY_LOG_LEVEL="warning", TOKENRY_VERIFY_CACHE_TTL=str(ttl),
               TOKENRY_SCHEDULER_ENABLED="false",
               # every trial ends in a refusal from 127.0.0.1: not a source to throttle here
               TOKENRY_AUTH_FAILURE_LIMIT="1000000",
               TOKENRY_SETTINGS_FILE=str(directory / "absent.env"))
    log_path = directory / f"{name}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from tokenry.cli import main; main()", "serve",
             "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"node {name} did not start:\n"
                                   f"{log_path.read_text()[-2000:]}")
            try:
                httpx.get(url + "/healthz", timeout=1, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def trial(admin: httpx.Client, writer: str, watched: httpx.Client, token: tuple[int, str],
          email: str) -> tuple[float, int]:
    """Milliseconds from the writer's answer to the watched node's first 401, and polls."""
    token_id, secret = token
    auth = basic(email, secret)
    for client in (watched, admin):  # cached on both nodes
        status = client.get(ME, headers=auth).status_code
        if status != 200:
            raise RuntimeError(f"a fresh token was refused ({status}) before its deactivation")
    answer = admin.put(f"{writer}/api/v2/api_tokens/{token_id}.json",
                       json={"api_token": {"active": False}})
    done = time.perf_counter()
    if answer.status_code != 200:
        raise RuntimeError(f"deactivation answered {answer.status_code}: {answer.text[:200]}")
    polls = 0
    while True:
        polls += 1
        status = watched.get(ME, headers=auth).status_code
        if status == 401:
            return (time.perf_counter() - done) * 1000, polls
        if status != 200 or time.perf_counter() - done > POLL_LIMIT_S:
            raise RuntimeError(f"the watched node answered {status} after {polls} polls")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def row(name: str, values: Sequence[float], polls: Sequence[int]) -> list[str]:
    quartiles = statistics.quantiles(values, n=4)
    return [name, f"{statistics.median(values):.1f}", f"{percentile(values, 0.90):.1f}",
            f"{percentile(values, 0.99):.1f}", f"{max(values):.1f}",
            f"{quartiles[2] - quartiles[0]:.1f}", f"{statistics.median(polls):.0f}"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get(
        "TOKENRY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--ttl", type=float, default=300.0,
                        help="verification cache TTL of both nodes (default 300 s)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    other: list[float] = []
    same: list[float] = []
    other_polls: list[int] = []
    same_polls: list[int] = []
    with scratch_schema(args.postgres) as url, \
            tempfile.TemporaryDirectory(prefix="tokenry-bench-") as name:
        assert url is not None
        fix = populate(url, 2 * args.trials)
        directory = Path(name)
        with node(fix, directory, "a", args.ttl) as a, node(fix, directory, "b", args.ttl) as b:
            admin_auth = basic(fix.email, fix.admin_secret)
            with httpx.Client(base_url=a, headers=admin_auth, timeout=10,
                              trust_env=False) as on_a, \
                    httpx.Client(base_url=b, timeout=10, trust_env=False) as on_b:
                log(f"{args.trials} trials per row, TTL {args.ttl:g}s")
                tokens = iter(fix.tokens)
                for n in range(args.trials):
                    ms, polls = trial(on_a, a, on_b, next(tokens), fix.email)
                    other.append(ms)
                    other_polls.append(polls)
                    ms, polls = trial(on_a, a, on_a, next(tokens), fix.email)
                    same.append(ms)
                    same_polls.append(polls)
                    if (n + 1) % 25 == 0:
                        log(f"{n + 1} trials: other node p50 {statistics.median(other):.1f} ms")
    table = [["seen by", "p50 ms", "p90 ms", "p99 ms", "max ms", "IQR ms", "polls"],
             row("other node (B)", other, other_polls),
             row("same node (A)", same, same_polls)]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    print(f"\nRevocation on PostgreSQL: two tokenry serve nodes, {args.trials} trials each, "
          f"cache TTL {args.ttl:g}s (time from A's answer to the first 401)")
    for line in table:
        print("  " + "  ".join([line[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(line[1:], widths[1:],
                                                             strict=True)]))
    p99 = percentile(other, 0.99)
    print(f"other node / same node, p50: {statistics.median(other) / statistics.median(same):.2f}x")
    print(f"target: other node p99 <= {TARGET_MS:.0f} ms: "
          f"{'MET' if p99 <= TARGET_MS else 'NOT MET'} ({p99:.1f} ms)")
    print(f"\nmachine: {os.cpu_count()} cores, 1-minute load average {load_before:.2f} before "
          f"and {os.getloadavg()[0]:.2f} after (that one counts this run too)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
