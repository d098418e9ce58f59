"""``create_app(settings)``: the FastAPI application, its lifespan and its background flusher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from tokenry.auth.invalidation import InvalidationWatcher
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.http.errors import install_error_handlers
from tokenry.http.routes import (
    access_requests,
    api_tokens,
    audit_logs,
    deliveries,
    health,
    users,
    verify,
)
from tokenry.http.routes import settings as account_settings
from tokenry.http.suffix import JsonSuffixMiddleware
from tokenry.operations.bootstrap import check_server_secret

log = logging.getLogger("tokenry")


async def _flush_usage(core: Core) -> None:
    try:
        await run_in_threadpool(core.usage.flush, core.db)
    except Exception:  # keep serving; the data stays queued for the next attempt
        log.exception("could not write usage data; will retry")


async def _flush_periodically(core: Core) -> None:
    while True:
        await asyncio.sleep(core.settings.usage_flush_interval)
        await _flush_usage(core)


def create_app(settings: Settings, core: Core | None = None) -> FastAPI:
    core = core or build_core(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        core.db.check_schema()
        check_server_secret(core)
        watcher = InvalidationWatcher(settings.database_url, core.cache.clear)
        watcher.start()
        flusher = asyncio.create_task(_flush_periodically(core))
        try:
            yield
        finally:
            watcher.stop()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await _flush_usage(core)

    app = FastAPI(title="tokenry", version="0.1.0", lifespan=lifespan,
                  docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    app.state.core = core
    install_error_handlers(app)
    for module in (users, api_tokens, account_settings, audit_logs, verify, health,
                   access_requests, deliveries):
        app.include_router(module.router)
    app.add_middleware(JsonSuffixMiddleware)
    return app
