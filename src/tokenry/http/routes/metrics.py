"""``GET /metrics``: Prometheus text, for the main port when no metrics port is set.

Who may read it: with ``TOKENRY_METRICS_PORT`` set, the metrics live on that port alone
(bound to ``TOKENRY_METRICS_HOST``, loopback by default, no authentication) and this route
answers 404. Otherwise this route needs ``Authorization: Bearer <TOKENRY_METRICS_TOKEN>``; with
no token set it answers 404 too, so a default installation publishes nothing.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tokenry.domain.errors import NotFound, Unauthenticated
from tokenry.http.deps import client_ip, get_core

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:  # a thread: the scrape runs one query
    core = get_core(request)
    settings = core.settings
    if settings.metrics_port is not None or settings.metrics_token is None:
        raise NotFound("Metrics are not served here: set TOKENRY_METRICS_TOKEN to read them "
                       "on this port with that bearer token, or TOKENRY_METRICS_PORT to serve "
                       "them on a port of their own.")
    source = client_ip(request)
    core.throttle.check(source)  # guessing the token counts as failed sign-ins
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    given = request.headers.get("authorization", "").encode("latin-1", "replace")
    if not hmac.compare_digest(given, expected):
        core.throttle.record_failure(source)
        raise Unauthenticated("metrics need Authorization: Bearer <TOKENRY_METRICS_TOKEN>")
    return Response(generate_latest(core.metrics.registry),
                    headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
