"""A real uvicorn server on a free loopback port, for tests whose behaviour crosses the network."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from authlib.integrations.httpx_client import OAuth2Client

from tokenry.core import Core
from tokenry.http.app import create_app

# httpx's default 5 s is too short on a loaded CI machine: one request to a live server once
# took longer there. A hung server still fails, just later.
TIMEOUT = 30.0
http = httpx.Client(timeout=TIMEOUT)
"""One pooled client for requests to live servers."""


def oauth_client(*args: Any, **kwargs: Any) -> OAuth2Client:
    """Authlib's OAuth client with the same generous timeout."""
    return OAuth2Client(*args, timeout=TIMEOUT, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(core: Core) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(core.settings, core), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
