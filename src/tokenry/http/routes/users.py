"""``/api/v2/users``: the authenticated user (``me``), and the account's users for admins, in
Zendesk's user shape."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, Response

from tokenry import schemas
from tokenry.auth.records import UserRecord
from tokenry.http.deps import CoreDep, CurrentActor, authenticate
from tokenry.http.documented import answers
from tokenry.http.links import resource_url
from tokenry.http.pagination import Paging, page_json
from tokenry.http.params import RecordId
from tokenry.http.scopes import scoped
from tokenry.operations.context import PageRequest
from tokenry.operations.users import list_users, show_user_by_id
from tokenry.present import ANONYMOUS_USER, zendesk_user_json

router = APIRouter(prefix="/api/v2/users", tags=["users"])
JSON = "application/json"


ANONYMOUS_BODY = json.dumps({"user": ANONYMOUS_USER}).encode()


@lru_cache(maxsize=4096)
def _me_body(user: UserRecord, url: str) -> bytes:
    """The serialised answer for one user snapshot: a changed user is a new snapshot (a new
    key), so nothing stale is served; the size bound keeps memory flat."""
    return json.dumps({"user": zendesk_user_json(user, url)}).encode()


@router.get("/me", summary="The authenticated user (the anonymous user without credentials)",
            operation_id="showCurrentUser", response_model=None,
            responses=answers(schemas.UserBody))
async def me(request: Request) -> Response:
    # Answered as bytes directly: this is the route clients poll the most.
    if "authorization" not in request.headers:
        return Response(ANONYMOUS_BODY, media_type=JSON)  # as Zendesk answers: 200, id null
    identity = await authenticate(request)
    url = resource_url(request, "users", identity.user.id)
    return Response(_me_body(identity.user, url), media_type=JSON)


@router.get("", summary="List the account's users (admins)", operation_id="listUsers",
            dependencies=[scoped("users")],
            responses=answers(schemas.UserList, 403, 422))
def index(request: Request, core: CoreDep, actor: CurrentActor,
          paging: Paging) -> dict[str, Any]:
    result = list_users(core, actor, paging or PageRequest())
    return page_json("users", [zendesk_user_json(u, resource_url(request, "users", u.id))
                               for u in result.items], result, request)


@router.get("/{user_id}", summary="Show a user (admins)", operation_id="showUser",
            dependencies=[scoped("users")],
            responses=answers(schemas.UserBody, 403, 404, 422))
def show(request: Request, core: CoreDep, actor: CurrentActor,
         user_id: RecordId) -> dict[str, Any]:
    user = show_user_by_id(core, actor, user_id)
    return {"user": zendesk_user_json(user, resource_url(request, "users", user.id))}
