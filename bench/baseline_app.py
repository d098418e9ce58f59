"""The bar for a cache miss: the least an HTTP token check on PostgreSQL can do.

A FastAPI app on asyncpg, with nothing tokenry adds (no cache, throttling, usage, audit,
scopes). Per request it does what tokenry must do on a cache miss and no more:

* read ``Authorization: Basic base64(email/token:SECRET)`` (anything else: ``401``);
* hash the secret as tokenry stores it (``HMAC-SHA256(server secret, token)``: one keyed SHA-256);
* run one indexed ``SELECT`` of the token by that hash, on a pool of fixed size (asyncpg
  prepares the statement once per connection);
* answer ``401`` when the token is absent or inactive, else a small JSON body naming it.

``bench/cache_miss.py`` starts it with uvicorn (one process, uvloop and httptools, as
``tokenry serve`` runs) and these environment variables:

``BASELINE_DSN``        a libpq URL of the database (``postgresql://...``)
``BASELINE_SCHEMA``     the schema holding ``api_tokens`` (its search_path)
``BASELINE_SECRET_KEY`` the server secret the token hashes were made with
``BASELINE_POOL_SIZE``  connections in the pool (default 8)
"""

from __future__ import annotations

import binascii
import hmac
import os
from base64 import b64decode
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

QUERY = "SELECT id, user_id, active FROM api_tokens WHERE secret_hash = $1"
REFUSED = JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    size = int(os.environ.get("BASELINE_POOL_SIZE", "8"))
    schema = os.environ.get("BASELINE_SCHEMA", "public")
    app.state.key = os.environ["BASELINE_SECRET_KEY"].encode()
    app.state.pool = await asyncpg.create_pool(
        os.environ["BASELINE_DSN"], min_size=size, max_size=size,
        server_settings={"search_path": schema, "application_name": "tokenry-bench-baseline"})
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


def token_secret(header: str | None) -> str | None:
    """The secret of ``Basic base64(email/token:SECRET)``, or None for anything else."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = b64decode(header[6:], validate=True).decode()
    except (binascii.Error, ValueError):
        return None
    user, _, secret = decoded.partition(":")
    return secret if user.endswith("/token") and secret else None


@app.get("/api/v2/users/me.json")
async def me(request: Request) -> Response:
    secret = token_secret(request.headers.get("authorization"))
    if secret is None:
        return REFUSED
    secret_hash = hmac.digest(request.app.state.key, secret.encode(), "sha256").hex()
    row = await request.app.state.pool.fetchrow(QUERY, secret_hash)
    if row is None or not row["active"]:
        return REFUSED
    return JSONResponse({"token": {"id": row["id"], "user_id": row["user_id"]}})


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b"ok")
