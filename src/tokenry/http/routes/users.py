from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tokenry.http.deps import CurrentIdentity
from tokenry.present import identity_user_json

router = APIRouter(prefix="/api/v2/users", tags=["users"])


@router.get("/me", summary="The authenticated user", response_model=None)
async def me(identity: CurrentIdentity) -> JSONResponse:
    # Returned as a response directly: this is the route clients poll the most.
    return JSONResponse({"user": identity_user_json(identity.user)})
