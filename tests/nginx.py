"""Debian's nginx for the tests, in the foreground, with every path inside its own directory.

``TOKENRY_TEST_NGINX`` points elsewhere than ``/usr/sbin/nginx``. Without nginx the tests that
need it skip with a warning; in CI (``CI`` set, or ``TOKENRY_REQUIRE_NGINX=1``) they fail.
When the tests run as root, nginx runs as ``nobody``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.live import free_port

NGINX = os.environ.get("TOKENRY_TEST_NGINX", "/usr/sbin/nginx")
REQUIRE_NGINX = os.environ.get("TOKENRY_REQUIRE_NGINX") == "1" or bool(os.environ.get("CI"))

# The main context: the parts an installed nginx (or the nginx image) provides around a
# server configuration, here all kept inside the run's own directory.
_MAIN = """
worker_processes 1;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/error.log notice;
events { worker_connections 256; }
http {
    access_log %(prefix)s/access.log;
    client_body_temp_path %(prefix)s/client_body;
    proxy_temp_path %(prefix)s/proxy;
    fastcgi_temp_path %(prefix)s/fastcgi;
    uwsgi_temp_path %(prefix)s/uwsgi;
    scgi_temp_path %(prefix)s/scgi;
    include %(prefix)s/server.conf;
}
"""


def require_nginx() -> str:
    """The nginx binary, or a skip (a failure in CI)."""
    if not Path(NGINX).exists():
        if REQUIRE_NGINX:
            pytest.fail(f"nginx is required here (CI) but {NGINX} is missing")
        warnings.warn(f"NGINX TESTS SKIPPED: {NGINX} is missing (apt-get install nginx)",
                      stacklevel=2)
        pytest.skip(f"{NGINX} is missing: nothing tested through nginx")
    return NGINX


@dataclass(frozen=True)
class Nginx:
    url: str
    prefix: Path

    def access_log(self, name: str = "access.log") -> list[str]:
        path = self.prefix / name
        return path.read_text().splitlines() if path.exists() else []


def _unprivileged() -> dict[str, Any]:
    """Popen arguments that keep nginx off root: as root, run it as ``nobody``."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


@contextmanager
def running_nginx(binary: str, server_conf: Callable[[Path, int], str]) -> Iterator[Nginx]:
    """nginx on a free loopback port. ``server_conf(prefix, port)`` is the text that goes in
    its ``http {}`` block; paths it names belong under ``prefix``."""
    prefix = Path(tempfile.mkdtemp(prefix="tokenry-nginx-"))  # not under pytest's 0700 tree
    port = free_port()
    privileges = _unprivileged()
    (prefix / "server.conf").write_text(server_conf(prefix, port))
    conf = prefix / "nginx.conf"
    conf.write_text(_MAIN % {"prefix": prefix})
    if privileges:
        for path in (prefix, *prefix.iterdir()):
            os.chown(path, privileges["user"], privileges["group"])
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **privileges)
    try:
        _wait_for_port(port, process, prefix)
        yield Nginx(f"http://127.0.0.1:{port}", prefix)
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(prefix, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], prefix: Path) -> None:
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr is not None else ""
            log = prefix / "error.log"
            raise RuntimeError(f"nginx exited with {process.returncode}: {stderr}"
                               f"{log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not open its port within 15 s") from None
            time.sleep(0.02)
