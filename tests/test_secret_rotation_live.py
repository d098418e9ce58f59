"""A rotation seen by real processes: `tokenry serve` runs; `tokenry secret rotate` runs as a
separate command; a token made after it (by another command) verifies on the running server
at once, without a restart, and one made before it still does."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port, http

ADMIN = "admin@tokenry.local"
CLI = [sys.executable, "-c", "from tokenry.cli import main; main()"]


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def me(base: str, secret: str) -> int:
    return http.get(f"{base}/api/v2/users/me", auth=(f"{ADMIN}/token", secret)).status_code


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A server's environment on either database, its keyring in a file (no secret in the
    environment: that is what `tokenry secret rotate` rewrites)."""
    values = {k: v for k, v in os.environ.items() if not k.startswith("TOKENRY_")}
    values.update(TOKENRY_DATABASE_URL=database_url, TOKENRY_SETTINGS_FILE="/nonexistent",
                  TOKENRY_SECRET_KEY_FILE=str(tmp_path / "tokenry.secret"),
                  TOKENRY_SCHEDULER_ENABLED="false",
                  TOKENRY_ADMIN_PASSWORD="a long admin password")
    return values


def test_a_token_made_after_a_cli_rotation_verifies_on_the_running_server(
        env: dict[str, str], tmp_path: Path) -> None:
    run(env, "init")
    old = json.loads(run(env, "tokens", "create", "--description", "before", "--json"))
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, text=True,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                http.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "tokenry serve did not start"
                time.sleep(0.05)
        old_secret = old["api_token"]["token"]
        assert me(base, old_secret) == 200

        rotated = json.loads(run(env, "secret", "rotate", "--json"))["secret"]
        new = json.loads(run(env, "tokens", "create", "--description", "after", "--json"))
        new_secret = new["api_token"]["token"]
        # the first request after the rotation: no restart, no waiting
        assert me(base, new_secret) == 200
        assert me(base, old_secret) == 200
        assert me(base, new_secret[:-1] + ("A" if new_secret[-1] != "A" else "B")) == 401
        keys = json.loads(run(env, "secret", "list", "--json"))["secret_keys"]
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert {(k["key_id"], k["current"], k["backs"]) for k in keys} == {
        (rotated["key_id"], True, 1), (rotated["previous_key_id"], False, 1)}
    keyring = tmp_path / "tokenry.secret"
    assert stat.S_IMODE(keyring.stat().st_mode) == 0o600
    secrets = [entry["secret"] for entry in json.loads(keyring.read_text())["keys"]]
    assert len(secrets) == 2
    assert not any(secret in stderr for secret in secrets)  # never logged
    assert "keyring reloaded" in stderr and rotated["key_id"] in stderr
