"""`tokenry serve` logs as configured: JSON or text lines, a request id on each line and in the
response, tokenry's INFO lines (failed authentications with their source), and no secret
that travels in a URL path, even when its request fails."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SECRET_KEY
from tests.live import free_port, http


def serve(tmp_path: Path, log_format: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = dict(os.environ, TOKENRY_DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
               TOKENRY_SECRET_KEY=SECRET_KEY, TOKENRY_SETTINGS_FILE="/nonexistent",
               TOKENRY_LOG_FORMAT=log_format, TOKENRY_SCHEDULER_ENABLED="false",
               TOKENRY_ADMIN_PASSWORD="a long admin password")
    cli = [sys.executable, "-c", "from tokenry.cli import main; main()"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, text=True,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.get(f"{base}/healthz", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("tokenry serve did not start")


def stop(server: subprocess.Popen[str]) -> list[str]:
    server.terminate()
    _, stderr = server.communicate(timeout=30)
    return stderr.splitlines()


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_serve_logs_request_ids_auth_failures_and_no_path_secrets(tmp_path: Path,
                                                                  log_format: str) -> None:
    server, base = serve(tmp_path, log_format)
    try:
        # No proxy is trusted by default: a client cannot choose its address by header.
        failed = http.get(f"{base}/api/v2/users/me", auth=("x@example.com/token", "nope"),
                           headers={"X-Request-Id": "trace-0123456789",
                                    "X-Forwarded-For": "203.0.113.9"})
        link = http.get(f"{base}/deliveries/SeCrEtLiNkVaLuE123")
        feed = http.get(f"{base}/calendar/SeCrEtFeEdVaLuE456.ics")
        made = http.get(f"{base}/healthz")
    finally:
        lines = stop(server)
    # no proxy is trusted, so the client's own id is not taken
    assert failed.status_code == 401 and failed.headers["x-request-id"] != "trace-0123456789"
    client_id = failed.headers["x-request-id"]
    assert link.status_code == 200 and feed.status_code == 404
    generated = made.headers["x-request-id"]
    assert len(generated) == 32
    assert "server" not in made.headers  # no banner naming the software
    text = "\n".join(lines)
    assert "203.0.113.9" not in text  # the source logged is the real peer, 127.0.0.1
    assert "SeCrEtLiNkVaLuE123" not in text and "SeCrEtFeEdVaLuE456" not in text
    assert "/deliveries/[redacted]" in text
    if log_format == "json":
        records = [json.loads(line) for line in lines]  # every line is JSON
        [failure] = [r for r in records if "authentication failed" in r["message"]]
        assert failure["logger"] == "tokenry.auth" and failure["level"] == "info"
        assert failure["request_id"] == client_id and "127.0.0.1" in failure["message"]
        assert any(r["request_id"] == generated for r in records if r["logger"] ==
                   "uvicorn.access")
    else:
        assert any("authentication failed from 127.0.0.1" in line
                   and f"[{client_id}]" in line for line in lines)


@pytest.mark.parametrize("settings_overrides", [{"forwarded_allow_ips": "127.0.0.1"}])
def test_a_trusted_proxys_request_id_is_kept_when_it_is_sane(client: Any) -> None:
    kept = client.get("/healthz", headers={"X-Request-Id": "nginx-4f2a9c01"})
    assert kept.headers["x-request-id"] == "nginx-4f2a9c01"
    odd = client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert odd.headers["x-request-id"] != "bad id\twith spaces"


def test_request_ids_are_unique_and_tell_nothing_of_the_request_count(client: Any) -> None:
    ids = [client.get("/healthz").headers["x-request-id"] for _ in range(50)]
    assert len(set(ids)) == 50 and all(len(i) == 32 for i in ids)
    assert len({i[:16] for i in ids}) == 1  # the process's own half
    tails = [int(i[16:], 16) for i in ids]
    assert any(b - a != 1 for a, b in itertools.pairwise(tails))  # not a counter
