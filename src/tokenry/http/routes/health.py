from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tokenry import schemas
from tokenry.http.documented import answers

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: answers without authentication or I/O",
            operation_id="health", response_model=None,
            responses=answers(schemas.Health, signed_in=False))
async def healthz() -> JSONResponse:
    # Built like /users/me's response, so the benchmark's ratio measures authentication only.
    return JSONResponse({"status": "ok"})
