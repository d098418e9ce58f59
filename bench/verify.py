"""Token verification throughput: the verifier in-process, then the real server over HTTP.

Run it as ``.venv/bin/python bench/verify.py`` (or ``make bench``); ``--quick`` for a short
run, ``--help`` for the knobs. Everything lives in a temporary directory that is removed at
the end, the server is a child process that is always stopped, and every request goes to
127.0.0.1.

Part 1, in-process, with 2,048 tokens loaded and the verification cache warm:

* ``verifier``: what the HTTP dependency does for a cache hit,
  ``core.verifier.authenticate_header("default", header, cached_only=True)``;
* ``baseline``: the least any token check can do, on the same headers: base64-decode, split
  out the secret, one SHA-256, one look-up in a dict of 2,048 digests;
* ``OAuth access token``: the same call with ``Authorization: Bearer <access token>`` for
  2,048 OAuth access tokens; its ``vs API token`` line compares it with the API-token row
  (the target, from issue 9: within 10%).

Both loops walk the same pre-built list of headers (random tokens, fixed seed). Their repeats
are interleaved so machine noise hits both alike, and the table shows the *median* repeat.
``time vs base`` is verifier time / baseline time: 1.00x would be free, the target is <= 1.5x.

Part 2, HTTP, against ``tokenry serve`` on a free loopback port with the same database:

* ``GET /healthz`` (no authentication, no I/O): the baseline, the cost of the HTTP stack;
* ``GET /api/v2/users/me.json`` with ``Authorization: Basic email/token:SECRET``;
* the same with ``Authorization: Bearer <OAuth access token>``.

Load comes from ``wrk`` when it is installed, else from a built-in asyncio client. The two
routes run alternately for several rounds and the table shows each route's *median*
requests/second. ``rate vs base`` is authenticated / unauthenticated: the target is >= 0.85.
``server CPU`` and ``client CPU`` are in cores (1.00 = one core busy for the whole run): a
server near 1.00 is the bottleneck (it is a single process), a client near 1.00 means the
client may be capping the figures. On this 2-core machine the client and the server share
the CPU, so absolute figures depend on what else runs; the ratios are the thing to compare,
and the per-round ratios show how much the machine's noise moved them.

``--profile`` adds a cProfile of the verifier loop (on stderr); ``--no-http`` skips part 2;
``--load python`` forces the built-in client even where wrk is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import hashlib
import os
import pstats
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.bootstrap import bootstrap, bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.create_oauth_token import create_oauth_token
from tokenry.operations.create_token import create_token
from tokenry.storage.models import Account

TOKEN_COUNT = 2048
SECRET_KEY = "bench-only-server-secret-" + "x" * 24  # >= 32 chars; never a real secret
SUBDOMAIN = "default"
HOST = "127.0.0.1"
ME_PATH = "/api/v2/users/me.json"
HEALTH_PATH = "/healthz"
VERIFY_TARGET = 1.5  # verifier time / baseline time, at most
HTTP_TARGET = 0.85  # authenticated req/s / unauthenticated req/s, at least
OAUTH_TARGET = 0.10  # OAuth access tokens within 10% of API tokens
CONNECTIONS = 32


class BenchError(RuntimeError):
    """A condition that makes the figures meaningless: stop and say why."""


@dataclass(frozen=True)
class Options:
    ops: int
    repeats: int
    seconds: int
    rounds: int
    warmup: int
    load: str
    http: bool
    profile: bool


@dataclass(frozen=True)
class Fixture:
    """The database the benchmark runs on and the tokens it holds."""

    directory: Path
    database_url: str
    core: Core
    email: str
    user_id: int
    secrets: list[str]
    access_tokens: list[str]


@dataclass(frozen=True)
class Row:
    name: str
    rate: float
    cells: tuple[str, ...]  # the columns between the rate and the ratio
    ratio: float


def log(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the tables."""
    print(message, file=sys.stderr, flush=True)


# --- the fixture --------------------------------------------------------------------------


def settings_for(directory: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{directory}/bench.db", secret_key=SECRET_KEY,
                    verify_cache_ttl=300)


@contextmanager
def fixture(count: int) -> Iterator[Fixture]:
    """A fresh SQLite database with ``count`` tokens for the bootstrap admin; removed after."""
    with tempfile.TemporaryDirectory(prefix="tokenry-bench-") as name:
        directory = Path(name)
        core = build_core(settings_for(directory))
        try:
            yield populate(core, directory, count)
        finally:
            core.close()


def populate(core: Core, directory: Path, count: int) -> Fixture:
    core.db.upgrade()
    bootstrap(core)
    admin = bootstrap_admin(core)
    if admin is None:
        raise BenchError("bootstrap created no admin")
    with core.db.transaction() as session:  # grandfathered: 2048 tokens instead of 256
        account = session.get(Account, admin.account_id)
        assert account is not None
        account.large_token_limit = True
    actor = Actor(account_id=admin.account_id, user_id=admin.id, label=admin.email, via="cli")
    # the load is far above any real account's rate limit: allow the most there is
    update_account_settings(core, actor, {"rate_limit_per_minute": 1_000_000})
    started = time.perf_counter()
    secrets = [create_token(core, actor, description=f"bench {i}").secret for i in range(count)]
    log(f"created {count} tokens in {time.perf_counter() - started:.1f}s")
    client = create_oauth_client(core, actor, ClientFields(
        name="bench", identifier="bench", kind="confidential", access_token_seconds=86400))
    started = time.perf_counter()
    access = [create_oauth_token(core, actor, client.client.id, "read write").access_token
              for _ in range(count)]
    log(f"issued {count} OAuth access tokens in {time.perf_counter() - started:.1f}s")
    return Fixture(directory, core.settings.database_url, core, admin.email, admin.id, secrets,
                   access)


def basic_header(email: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{email}/token:{secret}".encode()).decode()


# --- part 1: in-process ---------------------------------------------------------------------


def warm_cache(fix: Fixture, headers: Sequence[str]) -> None:
    """One full (database-backed) verification per token, checking each one really works."""
    for header in headers:
        identity = fix.core.verifier.authenticate_header(SUBDOMAIN, header)
        if identity.user.id != fix.user_id:
            raise BenchError("a bench token authenticated as the wrong user")


def verifier_loop(core: Core) -> Callable[[Sequence[str]], None]:
    """The credential check of tokenry.http.deps.authenticate on a cache hit, as it is called
    there (the throttle check, Host parsing and usage recording around it are left out)."""
    authenticate = core.verifier.authenticate_header

    def run(headers: Sequence[str]) -> None:
        for header in headers:
            authenticate(SUBDOMAIN, header, cached_only=True)

    return run


def baseline_loop(secrets: Sequence[str]) -> Callable[[Sequence[str]], None]:
    """The floor: decode, split, one SHA-256, one dict look-up (KeyError if unknown)."""
    digests = {hashlib.sha256(s.encode()).hexdigest(): i for i, s in enumerate(secrets)}
    b64decode, sha256 = base64.b64decode, hashlib.sha256

    def run(headers: Sequence[str]) -> None:
        for header in headers:
            secret = b64decode(header[6:]).decode().partition(":")[2]
            digests[sha256(secret.encode()).hexdigest()]  # KeyError: an unknown token

    return run


def time_loop(loop: Callable[[Sequence[str]], None], headers: Sequence[str]) -> float:
    # The garbage collector stays on: the server runs with it, and the verifier allocates.
    started = time.perf_counter()
    loop(headers)
    return time.perf_counter() - started


def interleaved(loops: dict[str, Callable[[Sequence[str]], None]], headers: Sequence[str],
                repeats: int) -> dict[str, float]:
    """Median seconds per call of each loop, alternating them so drift affects all alike."""
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeats):
        for name, loop in loops.items():
            times[name].append(time_loop(loop, headers) / len(headers))
    return {name: statistics.median(values) for name, values in times.items()}


def bearer_header(secret: str) -> str:
    return f"Bearer {secret}"


def measure_inprocess(fix: Fixture, opts: Options) -> list[Row]:
    all_headers = [basic_header(fix.email, secret) for secret in fix.secrets]
    all_access = [bearer_header(secret) for secret in fix.access_tokens]
    warm_cache(fix, all_headers)
    warm_cache(fix, all_access)
    rng = random.Random(TOKEN_COUNT)  # fixed seed: the same token sequence on every run
    headers = [rng.choice(all_headers) for _ in range(opts.ops)]
    access_headers = [rng.choice(all_access) for _ in range(opts.ops)]
    verify = verifier_loop(fix.core)
    loops = {"baseline": baseline_loop(fix.secrets), "verifier": verify,
             # the same number of calls, on the access tokens' headers
             "access": lambda given: verify(access_headers[:len(given)])}
    interleaved(loops, headers[: opts.ops // 10], 1)  # warm-up, not reported
    per_op = interleaved(loops, headers, opts.repeats)
    if opts.profile:
        profile(loops["verifier"], headers)
    base = per_op["baseline"]
    return [
        Row("baseline: b64 + sha256 + dict", 1 / base, (f"{base * 1e6:.2f}",), 1.0),
        Row("verifier: authenticate_header", 1 / per_op["verifier"],
            (f"{per_op['verifier'] * 1e6:.2f}",), per_op["verifier"] / base),
        Row("verifier: OAuth access token", 1 / per_op["access"],
            (f"{per_op['access'] * 1e6:.2f}",), per_op["access"] / base),
    ]


def profile(loop: Callable[[Sequence[str]], None], headers: Sequence[str]) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(loop, headers)
    log("\nverifier profile (cProfile inflates per-call cost; read the shares, not the times):")
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(14)


# --- part 2: HTTP ---------------------------------------------------------------------------


def free_port() -> int:
    """A port the kernel says is free now (a tiny race with other programs is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def tokenry_command() -> str:
    beside = Path(sys.executable).with_name("tokenry")
    found = str(beside) if beside.exists() else shutil.which("tokenry")
    if found is None:
        raise BenchError("cannot find the `tokenry` command; run `make bench` or pip install -e .")
    return found


def server_env(fix: Fixture) -> dict[str, str]:
    # Drop inherited TOKENRY_* settings so that only ours apply, and point the settings
    # file at nothing so that a ./tokenry.env cannot change the server either.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENRY_")}
    env.update(TOKENRY_DATABASE_URL=fix.database_url, TOKENRY_SECRET_KEY=SECRET_KEY,
               TOKENRY_LOG_LEVEL="warning", TOKENRY_VERIFY_CACHE_TTL="300",
               TOKENRY_SETTINGS_FILE=str(fix.directory / "absent.env"))
    return env


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def running_server(fix: Fixture, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``tokenry serve`` on a free loopback port, always stopped on the way out; ``env``
    replaces :func:`server_env`'s."""
    port = free_port()
    log_path = fix.directory / "server.log"
    with log_path.open("wb") as server_log:
        server = subprocess.Popen(
            [tokenry_command(), "serve", "--host", HOST, "--port", str(port)],
            cwd=fix.directory, env=env or server_env(fix), stdout=server_log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://{HOST}:{port}"
        wait_healthy(url, server, log_path)
        yield Server(url, server)
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()  # SIGTERM: uvicorn shuts down cleanly and flushes usage
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_healthy(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the server exited early:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url + HEALTH_PATH, timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise BenchError(f"the server did not answer {HEALTH_PATH} within 30s")


def preflight(url: str, header: str, email: str) -> None:
    """Every authenticated answer must be a 200 for this user; the first one warms the cache."""
    # trust_env=False: no HTTP(S)_PROXY detour; the requests go straight to 127.0.0.1.
    with httpx.Client(base_url=url, headers={"Authorization": header}, timeout=10,
                      trust_env=False) as client:
        for _ in range(50):
            response = client.get(ME_PATH)
            if response.status_code != 200:
                raise BenchError(f"pre-flight: {ME_PATH} answered {response.status_code} "
                                 f"{response.text[:200]!r}; not benchmarking failures")
            if response.json()["user"]["email"] != email:
                raise BenchError("pre-flight: the token authenticated as another user")


@dataclass(frozen=True)
class LoadResult:
    rate: float  # responses per second
    failures: int  # responses other than 200, or socket errors
    client_cpu: float  # cores used by the load generator


Load = Callable[[str, dict[str, str], float], LoadResult]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_load(url: str, headers: dict[str, str], seconds: float) -> LoadResult:
    duration = max(1, round(seconds))  # wrk takes whole seconds
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "5s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    before = children_cpu()  # wrk is waited for, so its CPU time lands in RUSAGE_CHILDREN
    done = subprocess.run([*args, url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    output = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    # wrk prints these lines only when something went wrong: non-2xx answers, socket errors.
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    failures = int(non_2xx.group(1)) if non_2xx else 0
    failures += sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0
    return LoadResult(float(rate.group(1)), failures, (children_cpu() - before) / duration)


def python_load(url: str, headers: dict[str, str], seconds: float) -> LoadResult:
    started, started_cpu = time.perf_counter(), time.process_time()
    try:
        statuses = run_event_loop(hammer(url, headers, seconds))
    except (OSError, asyncio.IncompleteReadError) as error:
        raise BenchError(f"a load connection to {url} failed: {error!r}") from error
    elapsed = time.perf_counter() - started  # a little over ``seconds``: the last answers
    failures = sum(n for status, n in statuses.items() if status != 200)
    return LoadResult(statuses.total() / elapsed, failures,
                      (time.process_time() - started_cpu) / elapsed)


def run_event_loop(work: Coroutine[object, object, Counter[int]]) -> Counter[int]:
    """Run on uvloop when it is installed (uvicorn[standard] brings it): a faster client."""
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(work)


async def hammer(url: str, headers: dict[str, str], seconds: float) -> Counter[int]:
    """CONNECTIONS keep-alive connections, each sending one request at a time until time is up."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    lines = [f"GET {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "User-Agent: tokenry-bench",
             *(f"{name}: {value}" for name, value in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    deadline = time.perf_counter() + seconds
    statuses: Counter[int] = Counter()
    await asyncio.gather(*(connection(parts.hostname, parts.port, request, deadline, statuses)
                           for _ in range(CONNECTIONS)))
    return statuses


async def connection(host: str, port: int, request: bytes, deadline: float,
                     statuses: Counter[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if length is None:  # tokenry's JSON answers always carry one
                raise BenchError("a response without Content-Length")
            await reader.readexactly(int(length.group(1)))
            statuses[int(head[9:12])] += 1
    finally:
        writer.close()
        await writer.wait_closed()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc; 0.0 where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    rate: float
    server_cpu: float
    client_cpu: float


def sample(load: Load, server: Server, path: str, headers: dict[str, str],
           seconds: float) -> Sample:
    before = cpu_seconds(server.process.pid)
    result = load(server.url + path, headers, seconds)
    after = cpu_seconds(server.process.pid)
    if server.process.poll() is not None:
        raise BenchError(f"the server exited during the run (code {server.process.returncode})")
    if result.failures:
        raise BenchError(f"{result.failures} failed requests to {path}; figures would be wrong")
    return Sample(result.rate, (after - before) / seconds, result.client_cpu)


def pick_load(choice: str) -> tuple[str, Load]:
    if choice == "wrk" or (choice == "auto" and shutil.which("wrk")):
        if not shutil.which("wrk"):
            raise BenchError("--load wrk given but wrk is not installed (apt-get install wrk)")
        return f"wrk -t1 -c{CONNECTIONS}", wrk_load
    return f"built-in asyncio client, {CONNECTIONS} connections", python_load


def measure_http(fix: Fixture, opts: Options) -> tuple[str, dict[str, list[Sample]]]:
    label, load = pick_load(opts.load)
    header = basic_header(fix.email, fix.secrets[0])
    bearer = bearer_header(fix.access_tokens[0])
    routes = {"GET /healthz (no auth)": (HEALTH_PATH, {}),
              "GET /api/v2/users/me.json": (ME_PATH, {"Authorization": header}),
              "GET /api/v2/users/me.json (OAuth)": (ME_PATH, {"Authorization": bearer})}
    with running_server(fix) as server:
        preflight(server.url, header, fix.email)
        preflight(server.url, bearer, fix.email)
        for path, headers in routes.values():  # fill the thread pool, sockets and caches
            sample(load, server, path, headers, opts.warmup)
        samples: dict[str, list[Sample]] = {name: [] for name in routes}
        log(f"measuring: {opts.rounds} rounds x {len(routes)} routes x {opts.seconds}s")
        for round_number in range(opts.rounds):
            for name, (path, headers) in routes.items():
                samples[name].append(sample(load, server, path, headers, opts.seconds))
                log(f"round {round_number + 1}: {name}: {samples[name][-1].rate:,.0f} req/s")
    return label, samples


def http_rows(samples: dict[str, list[Sample]]) -> list[Row]:
    rows, base = [], 0.0
    for name, runs in samples.items():
        rate = statistics.median(s.rate for s in runs)
        base = base or rate  # the first route is the unauthenticated baseline
        cells = (f"{statistics.median(s.server_cpu for s in runs):.2f}",
                 f"{statistics.median(s.client_cpu for s in runs):.2f}")
        rows.append(Row(name, rate, cells, rate / base))
    return rows


# --- output ---------------------------------------------------------------------------------


def print_table(title: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    table = [list(columns)] + [
        [row.name, f"{row.rate:,.0f}", *row.cells, f"{row.ratio:.2f}x"] for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    print(f"\n{title}")
    for line in table:
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:],
                                                                         strict=True)]
        print("  " + "  ".join(cells))


def verdict(what: str, ratio: float, target: float, at_most: bool) -> None:
    met = ratio <= target if at_most else ratio >= target
    bound = "<=" if at_most else ">="
    print(f"target: {what} {bound} {target:.2f}x: {'MET' if met else 'NOT MET'} ({ratio:.2f}x)")


def report_inprocess(rows: list[Row], opts: Options) -> None:
    print_table(f"In-process verification, {TOKEN_COUNT} tokens, cache warm "
                f"(median of {opts.repeats} interleaved repeats x {opts.ops:,} ops)",
                ["name", "ops/s", "us/op", "time vs base"], rows)
    verdict("verifier time / baseline time", rows[1].ratio, VERIFY_TARGET, at_most=True)
    oauth_vs_api = rows[2].ratio / rows[1].ratio
    verdict("OAuth access token time / API token time", oauth_vs_api, 1 + OAUTH_TARGET,
            at_most=True)


def report_http(label: str, samples: dict[str, list[Sample]], opts: Options) -> None:
    rows = http_rows(samples)
    print_table(f"HTTP, one server process ({label}; median of {opts.rounds} alternating "
                f"rounds x {opts.seconds:g}s)",
                ["route", "req/s", "server CPU", "client CPU", "rate vs base"], rows)
    base_runs, auth_runs, _ = samples.values()
    per_round = [a.rate / b.rate for a, b in zip(auth_runs, base_runs, strict=True)]
    print("per-round ratios (spread = noise): " + " ".join(f"{r:.2f}" for r in per_round)
          + f" (median {statistics.median(per_round):.2f})")
    verdict("authenticated / unauthenticated req/s", rows[1].ratio, HTTP_TARGET, at_most=False)
    verdict("OAuth access token req/s / API token req/s", rows[2].rate / rows[1].rate,
            1 - OAUTH_TARGET, at_most=False)
    if not label.startswith("wrk"):
        print("note: wrk not used; the Python client shares the 2 cores with the server and "
              "may be the bottleneck (see client CPU). apt-get install wrk for firmer figures.")


# --- command line ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a short run (~30s): fewer repeats, 3s HTTP runs, 2 rounds")
    parser.add_argument("--seconds", type=int, help="length of each HTTP run (default 10)")
    parser.add_argument("--rounds", type=int, help="HTTP rounds per route (default 5)")
    parser.add_argument("--repeats", type=int, help="in-process repeats (default 9)")
    parser.add_argument("--ops", type=int, help="verifications per repeat (default 50000)")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto",
                        help="HTTP load generator (auto: wrk when installed)")
    parser.add_argument("--no-http", action="store_true", help="run only the in-process part")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the verifier loop to stderr")
    args = parser.parse_args(argv)
    quick = args.quick
    seconds = max(1, args.seconds or (3 if quick else 10))
    return Options(ops=args.ops or (20_000 if quick else 50_000),
                   repeats=args.repeats or (5 if quick else 9), seconds=seconds,
                   rounds=max(1, args.rounds or (2 if quick else 5)), warmup=min(2, seconds),
                   load=args.load, http=not args.no_http, profile=args.profile)


def machine_note(load_before: float) -> None:
    # Other work on the machine shares the 2 cores with the client and the server: it lowers
    # the absolute figures and widens the spread of the ratios. Say how busy it was.
    print(f"\nmachine: {os.cpu_count()} cores, 1-minute load average {load_before:.2f} before "
          f"the run and {os.getloadavg()[0]:.2f} after it (that one counts this run too)")
    if load_before > 1.0:
        print("warning: other work was competing for the CPU; the figures and even the verdicts "
              "are unreliable. Re-run on a quiet machine.")


def exit_on_sigterm(signum: int, _frame: object) -> None:
    # SystemExit unwinds the context managers, so a killed run still stops the server and
    # removes its temporary directory (the default SIGTERM action would skip both).
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    try:
        with fixture(TOKEN_COUNT) as fix:
            report_inprocess(measure_inprocess(fix, opts), opts)
            if opts.http:
                sys.stdout.flush()
                report_http(*measure_http(fix, opts), opts)
        machine_note(load_before)
    except BenchError as error:
        print(f"bench/verify.py: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the server and the temporary directory are gone by now
        print("bench/verify.py: interrupted", file=sys.stderr)
        return 130
    log(f"done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
