"""The Admin Center's token list with 2,048 tokens: server time and page weight.

Run it as ``.venv/bin/python bench/admin_pages.py`` (``--database postgresql://...`` for
PostgreSQL, in a schema of its own that is dropped afterwards; SQLite in a temporary
directory by default). A real uvicorn server on a free
loopback port serves an account holding 2,048 tokens (the large-account limit), each with
some usage; one signed-in browser session and one API token make the requests.

Rows, each timed over the same number of sequential requests, interleaved round by round:

* ``API list (baseline)``: ``GET /api/v2/api_tokens.json?per_page=100``, 100 tokens as
  JSON: the same operation the page calls, without the HTML;
* ``API list, every token``: the same list with no page asked for, which answers all 2,048
  (as Zendesk's clients expect of this list); ``API cursor page``: ``page[size]=100``;
* ``tokens page 1``, ``tokens page 21`` (the last), ``search``: the Admin Center page.

``time vs base`` is the page's median / the API's median. ``page bytes`` is the HTML; the
stylesheet and script are listed once (they are cached by the browser after the first page).
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import argon2
import httpx
import uvicorn

from pg_schema import scratch_schema
from tokenry.auth import passwords
from tokenry.config import Settings
from tokenry.core import build_core
from tokenry.http.app import create_app
from tokenry.operations.bootstrap import bootstrap, bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.storage.models import Account

TOKENS = 2048
ADMIN = "bench@example.com"
PASSWORD = "bench password 1234"  # noqa: S105 - a throw-away database's admin


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--requests", type=int, default=40, help="requests per row per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    passwords.use_parameters(argon2.profiles.CHEAPEST)
    with tempfile.TemporaryDirectory() as folder, scratch_schema(args.database) as database:
        url = database or f"sqlite:///{folder}/bench.db"
        settings = Settings(database_url=url, secret_key="bench-" + "k" * 40,
                            admin_email=ADMIN, admin_password=PASSWORD,
                            secret_key_file=Path(folder) / "secret", scheduler_enabled=False)
        core = build_core(settings)
        core.db.upgrade()
        bootstrap(core)
        admin = bootstrap_admin(core)
        assert admin is not None
        actor = Actor(account_id=admin.account_id, user_id=admin.id, label=ADMIN, via="cli",
                      credential="cli", proves_person=True)
        with core.db.transaction() as session:
            account = session.get(Account, admin.account_id)
            assert account is not None
            account.large_token_limit = True
        started = time.perf_counter()
        secret = ""
        for number in range(TOKENS):
            made = create_token(core, actor, description=f"Integration {number:04d}")
            secret = secret or made.secret
        print(f"# {TOKENS} tokens created in {time.perf_counter() - started:.1f}s on "
              f"{'PostgreSQL' if 'postgresql' in url else 'SQLite'}", file=sys.stderr)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings, core), host="127.0.0.1",
                                               port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            _measure(f"http://127.0.0.1:{port}", secret, args.requests, args.rounds)
        finally:
            server.should_exit = True
            thread.join(10)
            core.close()


def _measure(base: str, secret: str, count: int, rounds: int) -> None:
    with httpx.Client(base_url=base) as browser, httpx.Client(base_url=base) as api:
        form = browser.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        browser.post("/login", data={"email": ADMIN, "password": PASSWORD,
                                     "csrf_token": csrf.group(1), "next": "/admin"})
        rows = {
            "API list (baseline)": (api, "/api/v2/api_tokens.json?per_page=100",
                                    {"Authorization": _basic(secret)}),
            "API list, every token": (api, "/api/v2/api_tokens.json",
                                      {"Authorization": _basic(secret)}),
            "API cursor page": (api, "/api/v2/api_tokens.json?page[size]=100",
                                {"Authorization": _basic(secret)}),
            "tokens page 1": (browser, "/admin/api_tokens", {}),
            "tokens page 21 (last)": (browser, "/admin/api_tokens?page=21", {}),
            "search 'Integration 1999'": (browser, "/admin/api_tokens?q=Integration+1999", {}),
        }
        times: dict[str, list[float]] = {name: [] for name in rows}
        sizes: dict[str, int] = {}
        for _ in range(rounds):
            for name, (client, path, headers) in rows.items():
                for _ in range(count):
                    started = time.perf_counter()
                    response = client.get(path, headers=headers)
                    times[name].append(time.perf_counter() - started)
                    assert response.status_code == 200, (path, response.status_code)
                    sizes[name] = len(response.content)
        assets = {path: len(browser.get(path).content)
                  for path in ("/static/tokenry.css", "/static/tokenry.js")}
    base_median = statistics.median(times["API list (baseline)"])
    print(f"{'row':28} {'median ms':>10} {'p90 ms':>8} {'time vs base':>13} {'page bytes':>11}")
    for name, samples in times.items():
        ordered = sorted(samples)
        median = statistics.median(ordered)
        p90 = ordered[int(len(ordered) * 0.9) - 1]
        print(f"{name:28} {median * 1000:10.1f} {p90 * 1000:8.1f} "
              f"{median / base_median:12.2f}x {sizes[name]:11,}")
    for path, size in assets.items():
        print(f"{path:28} {'':10} {'':8} {'':13} {size:11,}")


def _basic(secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{ADMIN}/token:{secret}".encode()).decode()


if __name__ == "__main__":
    main()
