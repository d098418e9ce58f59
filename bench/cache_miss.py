"""The cache-miss path at a million tokens: tokenry against the least a token check can do.

Run it from the repository root as ``.venv/bin/python -m bench.cache_miss`` (or
``make bench-scale``); ``--quick`` for a short run, ``--help`` for the knobs.

The data set is bench/scale_data.py's (1,000,000 active tokens in one account), built once into
its own PostgreSQL database (``tokenry_bench`` by default, so that
``pg_stat_database.sessions`` counts only this benchmark's connections) and kept between runs.

Two servers, each one uvicorn process on a free loopback port:

* ``baseline``: bench/baseline_app.py, FastAPI + asyncpg with a fixed pool as large as
  tokenry's pool for look-ups (8 connections: the PostgreSQL server is shared with others):
  parse Basic auth, one keyed SHA-256, one indexed ``SELECT`` by hash, ``401`` when absent;
* ``tokenry``: ``tokenry serve`` on the same table, at its default settings (2 s cache TTL).

Both answer ``GET /api/v2/users/me.json`` under ``wrk -t1 -c32`` with a Lua script that gives
every request a different token (a fresh slice of a shuffled order for each run: no token is
repeated within a run, so every tokenry request is a cache miss). The servers alternate for
several rounds after one warm-up run each; the table shows median requests/second, the spread
(lowest-highest), the ratio to the baseline, the median p99 latency, the server's and wrk's CPU
(in cores), and the PostgreSQL sessions opened during each run (``pg_stat_database.sessions``
delta; 0 means no connection churn). The machine's load average is printed beside it.

Then the memory figure: a fresh tokenry server gets 200,000 distinct valid tokens and 200,000
unknown ones (interleaved), and the table shows its RSS before and after, the verification
cache's entries and its hit ratio over those requests (from ``/metrics``).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
from bench.scale_data import ScaleData, ensure
from bench.verify import (
    HOST,
    BenchError,
    children_cpu,
    cpu_seconds,
    free_port,
    log,
    stop,
    tokenry_command,
    wait_healthy,
)
from sqlalchemy import select

from tokenry.core import build_core
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.storage.database import LOOKUP_POOL_SIZE
from tokenry.storage.models import User
from tokenry.storage.queries import account_settings

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/tokenry_bench"
ME_PATH = "/api/v2/users/me.json"
CONNECTIONS = 32
METRICS_TOKEN = "bench-metrics-" + "m" * 20
MAX_RATE = 10_000  # req/s no server here reaches: each run gets this many tokens a second
TARGET = 1.0  # tokenry req/s / baseline req/s, at least

LUA = """
local headers = {}
sent = 0  -- a global: done() reads it from each thread
local path = "%(path)s"
init = function(args)
  for line in io.lines(args[1]) do headers[#headers + 1] = line end
end
request = function()
  sent = sent + 1
  if sent > #headers then  -- out of tokens: cheap requests that touch no token
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("GET", path, {["Authorization"] = headers[sent]})
end
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("sent") end
  io.write(string.format("tokens_sent %%d\\n", total))
  io.write(string.format("p99_us %%d\\n", latency:percentile(99)))
end
"""


def load_data(database: str) -> ScaleData:
    ensure_database(database)
    return ensure(database)


@contextmanager
def rate_limit_lifted(data: ScaleData) -> Iterator[None]:
    """The load is far above the account's rate limit (6,000 a minute by default): lift it,
    through tokenry, for the run, and put it back after (two audit events each time)."""
    core = build_core(data.settings())
    try:
        with core.db.read() as session:
            admin = session.scalar(select(User).where(User.email == data.admin_email))
            assert admin is not None
            before = account_settings(session, admin.account_id).rate_limit_per_minute
        actor = Actor(account_id=admin.account_id, user_id=admin.id, label=admin.email,
                      via="cli")
        update_account_settings(core, actor, {"rate_limit_per_minute": 1_000_000})
        try:
            yield
        finally:
            update_account_settings(core, actor, {"rate_limit_per_minute": before})
    finally:
        core.close()


def ensure_database(url: str) -> None:
    """Create the benchmark's own database when it does not exist yet."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (name,)).fetchone() is None:
            log(f"creating database {name}")
            connection.execute(f'CREATE DATABASE "{name}"')


def libpq_url(url: str) -> str:
    """The database of a SQLAlchemy URL, without its driver and query (for psycopg/asyncpg)."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return parts._replace(query="").geturl()


class Sessions:
    """``pg_stat_database.sessions`` of the benchmark's database, read over one connection
    that stays open (so that reading it opens no session of its own)."""

    def __init__(self, database: str) -> None:
        self._connection = psycopg.connect(database, autocommit=True)

    def __call__(self) -> int:
        row = self._connection.execute("SELECT sessions FROM pg_stat_database WHERE datname "
                                       "= current_database()").fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self._connection.close()


# --- the servers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("TOKENRY_", "BASELINE_"))}


def tokenry_env(data: ScaleData, directory: Path) -> dict[str, str]:
    env = clean_env()
    env.update(data.env())
    env.update(TOKENRY_LOG_LEVEL="warning", TOKENRY_METRICS_TOKEN=METRICS_TOKEN,
               # every unknown token of the memory run comes from 127.0.0.1
               TOKENRY_AUTH_FAILURE_LIMIT="1000000000")
    return env


def baseline_env(data: ScaleData) -> dict[str, str]:
    env = clean_env()
    env.update(BASELINE_DSN=libpq_url(data.url), BASELINE_SCHEMA=data.schema,
               BASELINE_SECRET_KEY=data.secret_key,
               BASELINE_POOL_SIZE=str(LOOKUP_POOL_SIZE))
    return env


@contextmanager
def running(name: str, command: list[str], env: dict[str, str],
            directory: Path) -> Iterator[Server]:
    log_path = directory / f"{name}.log"
    with log_path.open("wb") as server_log:
        process = subprocess.Popen(command, cwd=Path.cwd(), env=env, stdout=server_log,
                                   stderr=subprocess.STDOUT)
    try:
        url = "http://" + command[command.index("--host") + 1] + ":" \
            + command[command.index("--port") + 1]
        wait_healthy(url, process, log_path)
        yield Server(name, url, process)
    finally:
        stop(process)


def tokenry_server(data: ScaleData, directory: Path) -> AbstractContextManager[Server]:
    command = [tokenry_command(), "serve", "--host", HOST, "--port", str(free_port())]
    return running("tokenry", command, tokenry_env(data, directory), directory)


def baseline_server(data: ScaleData, directory: Path) -> AbstractContextManager[Server]:
    command = [sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--host", HOST,
               "--port", str(free_port()), "--loop", "uvloop", "--http", "httptools",
               "--no-access-log", "--log-level", "warning"]
    return running("baseline", command, baseline_env(data), directory)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for process {pid}")


# --- the load ----------------------------------------------------------------------------


class Tokens:
    """Hands out headers in a shuffled order, each at most once until all have been used."""

    def __init__(self, data: ScaleData, seed: int = 1_000_000) -> None:
        self._data = data
        self._order = list(range(data.tokens))
        random.Random(seed).shuffle(self._order)
        self._next = 0

    def take(self, count: int) -> list[str]:
        if count > len(self._order):
            raise BenchError(f"a run needs {count:,} tokens; the data set has {len(self._order):,}")
        if self._next + count > len(self._order):
            self._next = 0  # long ago: those cache entries have expired
        chosen = self._order[self._next:self._next + count]
        self._next += count
        return [self._data.header(i) for i in chosen]


@dataclass(frozen=True)
class Run:
    rate: float
    p99_ms: float
    server_cpu: float
    client_cpu: float
    sessions: int
    tokens_sent: int
    failures: int
    wrk_output: str


def wrk(url: str, headers: Sequence[str], seconds: int, directory: Path) -> tuple[str, float]:
    lines = directory / "headers.txt"
    lines.write_text("\n".join(headers) + "\n")
    script = directory / "distinct.lua"
    script.write_text(LUA % {"path": ME_PATH})
    before = children_cpu()
    done = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
                           "-s", str(script), url, str(lines)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return done.stdout, (children_cpu() - before) / seconds


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise BenchError(f"cannot read {pattern!r} in wrk's output:\n{text}")
    return float(found.group(1))


def run(server: Server, tokens: Tokens, seconds: int, sessions: Sessions,
        directory: Path) -> Run:
    headers = tokens.take(MAX_RATE * seconds)
    sessions_before = sessions()
    cpu_before = cpu_seconds(server.process.pid)
    output, client_cpu = wrk(server.url, headers, seconds, directory)
    cpu_after = cpu_seconds(server.process.pid)
    opened = sessions() - sessions_before
    if server.process.poll() is not None:
        raise BenchError(f"{server.name} exited during the run")
    sent = int(number(r"tokens_sent (\d+)", output))
    if sent > len(headers):
        raise BenchError(f"{server.name} ran out of distinct tokens ({len(headers):,}): the "
                         f"run is not all misses")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    failures = int(non_2xx.group(1)) if non_2xx else 0
    failures += sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0
    return Run(number(r"Requests/sec:\s+([\d.]+)", output),
               number(r"p99_us (\d+)", output) / 1000, (cpu_after - cpu_before) / seconds,
               client_cpu, opened, sent, failures, output)


@dataclass(frozen=True)
class Options:
    database: str
    seconds: int
    rounds: int
    warmup: int
    memory_tokens: int
    only: str


def measure_misses(data: ScaleData, opts: Options, directory: Path) -> dict[str, list[Run]]:
    tokens = Tokens(data)
    runs: dict[str, list[Run]] = {"baseline": [], "tokenry": []}
    sessions = Sessions(opts.database)
    with baseline_server(data, directory) as baseline, tokenry_server(data, directory) as ours:
        servers = [s for s in (baseline, ours) if opts.only in ("both", s.name)]
        for server in servers:  # fill the pools and the account/user cache entries
            warm = run(server, tokens, opts.warmup, sessions, directory)
            log(f"warm-up {server.name}: {warm.rate:,.0f} req/s, {warm.sessions} sessions")
        for number_ in range(opts.rounds):
            for server in servers:
                result = run(server, tokens, opts.seconds, sessions, directory)
                if result.failures:
                    tail = (directory / f"{server.name}.log").read_text()[-3000:]
                    raise BenchError(f"{result.failures} failed requests to {server.name}: "
                                     "every token is valid, so the figures would be wrong\n"
                                     f"{result.wrk_output}\n{server.name}'s log ends:\n{tail}")
                runs[server.name].append(result)
                log(f"round {number_ + 1}: {server.name}: {result.rate:,.0f} req/s, "
                    f"p99 {result.p99_ms:.1f} ms, {result.sessions} new sessions")
    sessions.close()
    return {name: r for name, r in runs.items() if r}


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} ([\d.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@dataclass(frozen=True)
class Memory:
    rss_start: float
    rss_end: float
    entries: float
    hits: float
    misses: float
    sent: int
    seconds: float


def measure_memory(data: ScaleData, opts: Options, directory: Path, rate: float) -> Memory:
    """RSS after ``memory_tokens`` distinct valid tokens and as many unknown ones; ``rate``
    is how many misses a second the server answered in the first part."""
    tokens = Tokens(data, seed=7)
    valid = tokens.take(opts.memory_tokens)
    email = "unknown@tokenry.local/token:"
    unknown = ["Basic " + __import__("base64").b64encode(
        (email + "tkry_" + secrets.token_hex(16)).encode()).decode()
        for _ in range(opts.memory_tokens)]
    mixed = [h for pair in zip(valid, unknown, strict=True) for h in pair]
    started = time.perf_counter()
    sessions = Sessions(opts.database)
    with tokenry_server(data, directory) as server:
        auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        run(server, Tokens(data, seed=3), 2, sessions, directory)  # warm-up
        before_metrics = httpx.get(server.url + "/metrics", headers=auth, trust_env=False).text
        rss_start = rss_mib(server.process.pid)
        sent = 0
        while sent < len(mixed):
            chunk = mixed[sent:sent + 30_000]
            # a little short of the time the chunk needs: what is left goes in the next one
            seconds = max(1, int(len(chunk) / rate))
            output, _ = wrk(server.url, chunk, seconds, directory)
            done = min(int(number(r"tokens_sent (\d+)", output)), len(chunk))
            sent += done
            if done < len(chunk):
                rate = max(done / seconds, 100.0)
            log(f"memory: {sent:,} of {len(mixed):,} requests, RSS "
                f"{rss_mib(server.process.pid):,.0f} MiB")
        after = httpx.get(server.url + "/metrics", headers=auth, trust_env=False).text
        rss_end = rss_mib(server.process.pid)
    sessions.close()
    hits = metric(after, 'tokenry_verify_cache_total{result="hit"}') \
        - metric(before_metrics, 'tokenry_verify_cache_total{result="hit"}')
    misses = metric(after, 'tokenry_verify_cache_total{result="miss"}') \
        - metric(before_metrics, 'tokenry_verify_cache_total{result="miss"}')
    return Memory(rss_start, rss_end, metric(after, "tokenry_verify_cache_entries"), hits,
                  misses, sent, time.perf_counter() - started)


# --- output ------------------------------------------------------------------------------


def table(title: str, rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"\n{title}")
    for row in rows:
        print("  " + "  ".join([row[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]))


def report_misses(runs: dict[str, list[Run]], opts: Options, data: ScaleData) -> None:
    base = statistics.median(r.rate for r in runs["baseline"]) if "baseline" in runs else 0
    rows = [["server", "req/s", "spread", "vs baseline", "p99 ms", "server CPU", "wrk CPU",
             "new PG sessions"]]
    for name, results in runs.items():
        rate = statistics.median(r.rate for r in results)
        rows.append([name, f"{rate:,.0f}",
                     f"{min(r.rate for r in results):,.0f}-{max(r.rate for r in results):,.0f}",
                     f"{rate / base:.2f}x" if base else "-",
                     f"{statistics.median(r.p99_ms for r in results):.1f}",
                     f"{statistics.median(r.server_cpu for r in results):.2f}",
                     f"{statistics.median(r.client_cpu for r in results):.2f}",
                     " ".join(str(r.sessions) for r in results)])
    table(f"Cache miss over HTTP, PostgreSQL, {data.tokens:,} tokens, every request a "
          f"different token (wrk -t1 -c{CONNECTIONS}; median of {opts.rounds} alternating "
          f"rounds x {opts.seconds}s; sessions per round)", rows)
    if base and "tokenry" in runs:
        ours, theirs = runs["tokenry"], runs["baseline"]
        ratios = [a.rate / b.rate for a, b in zip(ours, theirs, strict=True)]
        print("per-round ratios: " + " ".join(f"{r:.2f}" for r in ratios))
        ratio = statistics.median(r.rate for r in ours) / base
        churn = sum(r.sessions for r in ours)
        print(f"target: tokenry / baseline req/s >= {TARGET:.2f}x: "
              f"{'MET' if ratio >= TARGET else 'NOT MET'} ({ratio:.2f}x); "
              f"PostgreSQL sessions opened by tokenry after warm-up: {churn}")


def report_memory(memory: Memory, opts: Options, data: ScaleData) -> None:
    lookups = memory.hits + memory.misses
    rows = [["server", "RSS before", "RSS after", "growth", "cache entries", "hit ratio",
             "requests"],
            ["tokenry", f"{memory.rss_start:,.0f} MiB", f"{memory.rss_end:,.0f} MiB",
             f"{memory.rss_end - memory.rss_start:+,.0f} MiB", f"{memory.entries:,.0f}",
             f"{memory.hits / lookups:.1%}" if lookups else "-", f"{memory.sent:,}"]]
    table(f"Server memory after {opts.memory_tokens:,} distinct valid tokens and "
          f"{opts.memory_tokens:,} unknown ones, interleaved ({data.tokens:,} tokens stored; "
          f"{memory.seconds:.0f}s)", rows)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 4s, 20,000 tokens "
                        "for the memory figure")
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help=f"PostgreSQL URL of the benchmark's database ({DEFAULT_DATABASE})")
    parser.add_argument("--seconds", type=int, help="length of each run (default 8)")
    parser.add_argument("--rounds", type=int, help="rounds per server (default 5)")
    parser.add_argument("--memory-tokens", type=int,
                        help="valid and unknown tokens for the memory figure (default 200000; "
                        "0 skips it)")
    parser.add_argument("--only", choices=["both", "tokenry", "baseline"], default="both",
                        help="measure one server alone (for profiling)")
    args = parser.parse_args(argv)
    quick = args.quick
    seconds = args.seconds or (4 if quick else 8)
    memory = args.memory_tokens if args.memory_tokens is not None else \
        (20_000 if quick else 200_000)
    return Options(args.database, seconds, args.rounds or (3 if quick else 5),
                   min(3, seconds), memory, args.only)


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    load_before = os.getloadavg()[0]
    data = load_data(opts.database)
    with tempfile.TemporaryDirectory(prefix="tokenry-miss-") as name, rate_limit_lifted(data):
        directory = Path(name)
        runs = measure_misses(data, opts, directory)
        report_misses(runs, opts, data)
        if opts.memory_tokens:
            rate = statistics.median(r.rate for r in runs.get("tokenry", [])) \
                if "tokenry" in runs else 1000.0
            report_memory(measure_memory(data, opts, directory, rate), opts, data)
    print(f"\nmachine: {os.cpu_count()} cores, 1-minute load average {load_before:.2f} before "
          f"the run and {os.getloadavg()[0]:.2f} after it (that one counts this run too)")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"cache_miss: {error}")
