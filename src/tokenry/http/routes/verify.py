"""``/api/v2/verify``: forward-auth for other services (nginx auth_request, Traefik, SDKs)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tokenry.http.deps import CurrentIdentity
from tokenry.present import identity_user_json

router = APIRouter(prefix="/api/v2", tags=["verification"])


@router.get("/verify", summary="Verify the request's own Authorization header")
@router.api_route("/verify", methods=["HEAD", "POST", "PUT", "PATCH", "DELETE"],
                  include_in_schema=False)  # proxies forward whatever method they received
async def verify(identity: CurrentIdentity) -> JSONResponse:
    headers = {
        "X-Tokenry-User-Id": str(identity.user.id),
        "X-Tokenry-User-Email": identity.user.email,
        "X-Tokenry-User-Role": identity.user.role,
        "X-Tokenry-Account": identity.account.subdomain,
        "Cache-Control": "no-store",
    }
    if identity.token_id is not None:
        headers["X-Tokenry-Token-Id"] = str(identity.token_id)
    body = {
        "user": identity_user_json(identity.user),
        "account": {"id": identity.account.id, "subdomain": identity.account.subdomain},
        "token": {"id": identity.token_id} if identity.token_id is not None else None,
        "method": "token" if identity.token_id is not None else "password",
    }
    return JSONResponse(body, headers=headers)
