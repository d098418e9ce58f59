from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: answers without authentication or I/O",
            response_model=None)
async def healthz() -> JSONResponse:
    # Built like /users/me's response, so the benchmark's ratio measures authentication only.
    return JSONResponse({"status": "ok"})
