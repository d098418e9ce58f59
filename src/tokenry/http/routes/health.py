from __future__ import annotations

from typing import Any

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: answers without authentication or I/O")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}
