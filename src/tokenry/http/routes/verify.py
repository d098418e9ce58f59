"""``/api/v2/verify``: forward-auth for other services (nginx auth_request, Traefik, SDKs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from tokenry import schemas
from tokenry.auth.records import Identity
from tokenry.domain.errors import InsufficientScope
from tokenry.domain.scopes import IMPERSONATE, READ, allows, header_value, normalise, parse_scope
from tokenry.domain.timefmt import iso
from tokenry.http.deps import CurrentIdentity, authenticate
from tokenry.http.documented import NO_STORE, answers, header
from tokenry.present import identity_user_json

router = APIRouter(prefix="/api/v2", tags=["verification"])
IDENTITY_HEADERS = {
    "X-Tokenry-User-Id": header("The user's id", kind="integer", required=True),
    "X-Tokenry-User-Email": header("The user's email", required=True),
    "X-Tokenry-User-Role": header("admin, agent or end-user", required=True),
    "X-Tokenry-Account": header("The account's subdomain", required=True),
    "X-Tokenry-Token-Id": header("The token's id (absent for a password)", kind="integer"),
    "X-Tokenry-Scopes": header("The credential's scopes, space-separated; `*` when unscoped",
                               required=True),
    **NO_STORE}


@router.get("/verify", summary="Verify the request's own Authorization header",
            operation_id="verify", response_model=None,
            responses=answers(schemas.Verification, 403, 422, headers=IDENTITY_HEADERS))
@router.api_route("/verify", methods=["HEAD", "POST", "PUT", "PATCH", "DELETE"],
                  include_in_schema=False)  # proxies forward whatever method they received
async def verify(identity: CurrentIdentity, scope: Annotated[str | None, Query(
        max_length=200, description="Answer 403 unless the credential's scopes reach this one "
                                    "(`tickets:write`, `users:read`, `read` ...), so a proxy "
                                    "can require it per location")] = None) -> JSONResponse:
    if scope is not None:
        _require(identity, scope)
    return _verification(identity)


async def verify_unscoped(request: Request) -> JSONResponse:
    """``GET /verify`` with no ``scope``, as the fast lane (:mod:`tokenry.http.fast_lane`)
    answers it."""
    return _verification(await authenticate(request))


def _verification(identity: Identity) -> JSONResponse:
    headers = {
        "X-Tokenry-User-Id": str(identity.user.id),
        "X-Tokenry-User-Email": identity.user.email,
        "X-Tokenry-User-Role": identity.user.role,
        "X-Tokenry-Account": identity.account.subdomain,
        "X-Tokenry-Scopes": header_value(identity.scopes),
        "Cache-Control": "no-store",
    }
    if identity.token_id is not None:
        headers["X-Tokenry-Token-Id"] = str(identity.token_id)
    body = {
        "user": identity_user_json(identity.user),
        "account": {"id": identity.account.id, "subdomain": identity.account.subdomain},
        "token": _credential(identity),
        "method": "token" if identity.token_id is not None else
                  "oauth" if identity.oauth_token_id is not None else "password",
        "scopes": list(identity.scopes) if identity.scopes is not None else None,
    }
    return JSONResponse(body, headers=headers)


def _credential(identity: Identity) -> dict[str, object] | None:
    """The token that was presented (an API token or an OAuth access token) and when it
    stops working, so a caller's cache can end with it; None for a password."""
    if identity.token_id is not None:
        token_id, kind = identity.token_id, "api_token"
    elif identity.oauth_token_id is not None:
        token_id, kind = identity.oauth_token_id, "oauth"
    else:
        return None
    return {"id": token_id, "kind": kind, "expires_at": iso(identity.expires_at)}


def _require(identity: Identity, wanted: str) -> None:
    """Every scope ``wanted`` names (space-separated) must be reachable; a level-less one
    (``tickets``) needs both levels."""
    for name in normalise(wanted, field="scope") or []:
        if name == IMPERSONATE:
            if identity.scopes is not None and IMPERSONATE not in identity.scopes:
                raise InsufficientScope(name)
            continue
        needed = parse_scope(name)  # canonical: it has its level
        if not allows(identity.scopes, needed.resource, needed.level or READ):
            raise InsufficientScope(name)
