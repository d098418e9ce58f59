"""Real ``tokenry serve`` processes on one database, and Redis keys a test can clean up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from tests.conftest import ADMIN_EMAIL, SECRET_KEY
from tests.live import free_port, http
from tokenry.config import Settings

REDIS_URL = os.environ.get("TOKENRY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    return f"tokenry-test:{uuid.uuid4().hex[:12]}:"


def forget(url: str, prefix: str) -> None:
    """Delete every key a test made under its prefix."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class Node:
    def __init__(self, process: subprocess.Popen[str], base: str) -> None:
        self.process = process
        self.base = base
        self.log: str | None = None

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return http.get(f"{self.base}{path}", **kwargs)  # type: ignore[arg-type]

    def stop(self) -> str:
        """Stop as an operator would (SIGTERM: the shutdown flush runs); its log."""
        if self.log is None:
            self.process.terminate()
            self.log = self.process.communicate(timeout=60)[1]
        return self.log


def node_env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, TOKENRY_DATABASE_URL=settings.database_url,
                TOKENRY_SECRET_KEY=SECRET_KEY, TOKENRY_SETTINGS_FILE="/nonexistent",
                TOKENRY_SECRET_KEY_FILE=str(tmp_path / "unused.secret"),
                TOKENRY_SCHEDULER_ENABLED="false", TOKENRY_ADMIN_EMAIL=ADMIN_EMAIL,
                TOKENRY_LOG_LEVEL="warning", **extra)


def start_node(env: dict[str, str]) -> Node:
    port = free_port()
    cli = [sys.executable, "-c", "from tokenry.cli import main; main()"]
    process = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            http.get(f"{base}/healthz", timeout=1)
            return Node(process, base)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"tokenry serve did not start: {process.communicate()[1][-2000:]}")


@contextmanager
def two_nodes(env: dict[str, str]) -> Iterator[tuple[Node, Node]]:
    first = start_node(env)
    try:
        second = start_node(env)
    except BaseException:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def wait_for_minute_room(seconds: float = 5.0) -> None:
    """The shared rate window is the epoch minute: a test that counts requests in one window
    starts early enough in a minute to finish before it turns."""
    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left + 0.05)  # a clock boundary, not an event anything could signal
