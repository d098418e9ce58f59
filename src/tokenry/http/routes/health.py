from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tokenry import schemas
from tokenry.http.documented import answers
from tokenry.observe import check_readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: answers without authentication or I/O",
            operation_id="health", response_model=None,
            responses=answers(schemas.Health, signed_in=False))
async def healthz() -> JSONResponse:
    # Built like /users/me's response. It stays out of the fast lane: it is the reference
    # the HTTP benchmarks have always compared with (a route through the whole stack).
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="Readiness: the database, its schema and the change listener",
            operation_id="ready", response_model=None, responses={
                200: {"model": schemas.Readiness, "description": "Ready to take traffic"},
                503: {"model": schemas.Readiness,
                      "description": "Not ready; checks names what failed"}})
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    readiness = check_readiness(state.core.db, state.schema_head,
                                getattr(state, "watcher", None))
    return JSONResponse({"status": "ready" if readiness.ready else "unready",
                         "checks": readiness.checks},
                        status_code=200 if readiness.ready else 503,
                        headers={"Cache-Control": "no-store"})
