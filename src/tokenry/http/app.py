"""``create_app(settings)``: the FastAPI application, its lifespan and its background flusher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import start_http_server
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from tokenry.config import Settings
from tokenry.core import Core, build_core, watch_identity_changes
from tokenry.http.docs import install_docs
from tokenry.http.envelope import Envelope
from tokenry.http.errors import install_error_handlers
from tokenry.http.fast_lane import FastLane
from tokenry.http.openapi import install_openapi
from tokenry.http.redaction import protect_access_log
from tokenry.http.routes import (
    access_requests,
    api_tokens,
    audit_logs,
    calendar,
    deliveries,
    health,
    metrics,
    oauth,
    oauth_clients,
    oauth_tokens,
    reports,
    users,
    verify,
)
from tokenry.http.routes import settings as account_settings
from tokenry.jobs.runner import run_jobs
from tokenry.notify.worker import deliver_due, release_own_leases
from tokenry.operations.bootstrap import check_server_secret
from tokenry.web import install_web

log = logging.getLogger("tokenry")


async def _in_thread(name: str, work: Callable[[], object]) -> None:
    try:
        await run_in_threadpool(work)
    except Exception:  # keep serving; every piece of background work retries next round
        log.exception("background work %s failed; will retry", name)


async def _every(seconds: float, name: str, work: Callable[[], object]) -> None:
    while True:
        await asyncio.sleep(seconds)
        await _in_thread(name, work)


def _background(core: Core) -> list[asyncio.Task[None]]:
    """Usage flushing always; the scheduler and notification delivery unless turned off
    (run them from cron with `tokenry jobs run` instead)."""
    settings = core.settings
    work: list[tuple[float, str, Callable[[], object]]] = [
        (settings.usage_flush_interval, "usage", lambda: core.usage.flush(core.db))]
    if settings.scheduler_enabled:
        work.append((settings.scheduler_interval, "jobs", lambda: run_jobs(core)))
        work.append((settings.notification_interval, "notifications",
                     lambda: deliver_due(core)))
    return [asyncio.create_task(_every(seconds, name, job)) for seconds, name, job in work]


@contextlib.contextmanager
def _metrics_port(core: Core) -> Iterator[None]:
    """Serve /metrics on ``metrics_port`` when it is set (prometheus-client's own server)."""
    settings = core.settings
    if settings.metrics_port is None:
        yield
        return
    server, thread = start_http_server(settings.metrics_port, settings.metrics_host,
                                       registry=core.metrics.registry)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _App(FastAPI):
    """FastAPI with tokenry's layers outside its own: the envelope around everything, and
    the fast lane inside it, so that the lane's requests skip FastAPI's error, telemetry and
    body-limit layers as well as its router (each layer's call is a measurable part of a
    cache miss). The envelope still sees every response, the 500 included."""

    outside: Callable[[ASGIApp], ASGIApp] = staticmethod(lambda inner: inner)

    def build_middleware_stack(self) -> ASGIApp:
        return self.outside(super().build_middleware_stack())


def create_app(settings: Settings, core: Core | None = None) -> FastAPI:
    core = core or build_core(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core.db.check_schema()
        check_server_secret(core)
        app.state.schema_head = core.db.head_revision()  # once: it reads the scripts
        watcher = app.state.watcher = watch_identity_changes(core)
        if settings.scheduler_enabled:
            await _in_thread("notifications", lambda: release_own_leases(core))
        tasks = _background(core)
        try:
            with _metrics_port(core):
                yield
        finally:
            watcher.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _in_thread("usage", lambda: core.usage.flush(core.db))
            if core.shared is not None:
                await core.shared.aclose()

    # FastAPI's own OpenTelemetry export stays off: it would record exception messages and
    # stack traces (which may hold a secret) outside tokenry's redacted logs, and asked on
    # every request whether a provider had been configured. /metrics and the logs cover it.
    app = _App(title="tokenry", version="0.1.0", lifespan=lifespan,
               docs_url=None, openapi_url="/api/openapi.json", redoc_url=None,
               telemetry={"tracing": False, "metrics": False, "logs": False})
    # A trailing-slash redirect would be built from the Host header (an open redirect);
    # the envelope answers the slash form directly instead.
    app.router.redirect_slashes = False
    app.state.core = core
    protect_access_log()
    install_error_handlers(app)
    for module in (users, api_tokens, account_settings, audit_logs, verify, health, metrics,
                   access_requests, deliveries, calendar, reports, oauth_clients,
                   oauth_tokens):
        app.include_router(module.router)
    app.include_router(oauth.router)
    app.include_router(oauth.consent)
    install_web(app)
    app.outside = lambda inner: Envelope(
        FastLane(inner, routes=[*users.router.routes, *verify.router.routes],
                 endpoints={"/api/v2/users/me": users.me,
                            "/api/v2/verify": verify.verify_unscoped}),
        metrics=core.metrics, trust_request_id=bool(settings.forwarded_allow_ips))
    install_openapi(app)
    install_docs(app, "/api/openapi.json")
    return app
