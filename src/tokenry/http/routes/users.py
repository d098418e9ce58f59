from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tokenry.http.deps import CurrentIdentity
from tokenry.present import identity_user_json

router = APIRouter(prefix="/api/v2/users", tags=["users"])


@router.get("/me", summary="The authenticated user")
async def me(identity: CurrentIdentity) -> dict[str, Any]:
    return {"user": identity_user_json(identity.user)}
