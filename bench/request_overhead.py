"""What a cache-hit request costs inside the app, measured without a network or a load client.

Run it as ``PYTHONPATH=src .venv/bin/python bench/request_overhead.py``. It builds a SQLite
database in a temporary directory, issues one API token, and calls the FastAPI app as an ASGI
callable in a loop (no sockets, no HTTP parser, no client), so the figures are the app's own
CPU per request (process CPU time, not wall time: a hit never leaves the event loop's
thread), and they move less with the machine's load than a throughput figure:

* ``GET /healthz``: no authentication;
* ``GET /api/v2/users/me.json`` with ``Authorization: Basic email/token:SECRET``, the token's
  verification cached (the hot path).

Repeats are interleaved and the table shows the median. To compare two versions of tokenry
(for example before and after adding the Prometheus counters), run it once with each on
``PYTHONPATH``: it uses only APIs both have. ``--compare DIR`` does that in one run: it
starts this script again with ``DIR/src`` first on the path, alternating the two, and prints
each version's medians and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SECRET_KEY = "bench-only-server-secret-" + "x" * 24  # >= 32 chars; never a real secret
ROUTES = ("/healthz", "/api/v2/users/me.json")


def build(directory: Path) -> tuple[Any, str]:
    from tokenry.config import Settings
    from tokenry.core import build_core
    from tokenry.http.app import create_app
    from tokenry.operations.bootstrap import bootstrap, bootstrap_admin
    from tokenry.operations.context import Actor
    from tokenry.operations.create_token import create_token

    settings = Settings(database_url=f"sqlite:///{directory}/bench.db", secret_key=SECRET_KEY,
                        verify_cache_ttl=300, scheduler_enabled=False,
                        admin_email="admin@example.com")
    core = build_core(settings)
    core.db.upgrade()
    bootstrap(core)
    admin = bootstrap_admin(core)
    assert admin is not None
    actor = Actor(account_id=admin.account_id, user_id=admin.id, label=admin.email, via="cli",
                  credential="cli", proves_person=True)
    secret = create_token(core, actor, description="bench").secret
    user = base64.b64encode(f"{admin.email}/token:{secret}".encode()).decode()
    return create_app(settings, core), f"Basic {user}"


async def call(app: Any, path: str, authorization: str) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8000),
             "client": ("127.0.0.1", 50000),
             "headers": [(b"host", b"127.0.0.1:8000"),
                         (b"authorization", authorization.encode())]}
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(ops: int, repeats: int) -> dict[str, float]:
    """Microseconds per request for each route: the median of ``repeats`` interleaved loops."""
    with tempfile.TemporaryDirectory(prefix="tokenry-bench-") as tmp:
        app, authorization = build(Path(tmp))
        for path in ROUTES:  # warm: the first call of /users/me fills the cache
            assert await call(app, path, authorization) == 200, path
        times: dict[str, list[float]] = {path: [] for path in ROUTES}
        for _ in range(repeats):
            for path in ROUTES:
                started = time.process_time()
                for _ in range(ops):
                    await call(app, path, authorization)
                times[path].append((time.process_time() - started) / ops * 1e6)
        app.state.core.close()
    return {path: statistics.median(values) for path, values in times.items()}


def compare(other: Path, args: argparse.Namespace) -> None:
    here = Path(__file__).resolve().parent.parent / "src"
    versions = {"this tree": here, f"{other}": other / "src"}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    for _ in range(args.rounds):
        for name, source in versions.items():
            env = dict(os.environ, PYTHONPATH=str(source))
            output = subprocess.run(
                [sys.executable, __file__, "--ops", str(args.ops), "--repeats",
                 str(args.repeats), "--json"], env=env, check=True, capture_output=True,
                text=True).stdout
            results[name].append(json.loads(output))
    load = os.getloadavg()[0]
    print(f"In-process ASGI calls, CPU us per request (median of {args.rounds} alternating rounds "
          f"x {args.repeats} repeats x {args.ops:,} requests); load average {load:.2f}")
    print(f"  {'route':<26}" + "".join(f"{name[-24:]:>26}" for name in versions)
          + f"{'ratio':>8}")
    names = list(versions)
    for path in ROUTES:
        medians = [statistics.median(r[path] for r in results[name]) for name in names]
        spread = [f"{min(r[path] for r in results[n]):.1f}-{max(r[path] for r in results[n]):.1f}"
                  for n in names]
        cells = "".join(f"{m:>12.1f} ({s:>11})" for m, s in zip(medians, spread, strict=True))
        print(f"  {path:<26}{cells}{medians[0] / medians[1]:>8.3f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=3000, help="requests per loop")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved loops per route")
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --compare")
    parser.add_argument("--compare", type=Path, help="another tokenry checkout to compare")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args()
    if args.compare is not None:
        compare(args.compare, args)
        return
    import logging

    logging.disable(logging.INFO)  # the access log and sign-in lines are not the subject
    medians = asyncio.run(measure(args.ops, args.repeats))
    if args.json:
        print(json.dumps(medians))
        return
    for path, micros in medians.items():
        print(f"{path:<26}{micros:>10.1f} us/request")


if __name__ == "__main__":
    main()
