"""``/api/v2/api_tokens``: Zendesk's API token resource, plus expiry and user binding."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from tokenry import schemas
from tokenry.domain.text import MAX_ID
from tokenry.domain.tokens import LARGE_LIMIT
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import LOCATION, NO_STORE, answers
from tokenry.http.links import resource_url
from tokenry.http.pagination import Paging, page_json
from tokenry.http.params import BodyId, RecordId, ShortText
from tokenry.http.scopes import scoped
from tokenry.operations.context import EveryRow
from tokenry.operations.create_token import create_token
from tokenry.operations.delete_token import delete_token
from tokenry.operations.exception_tokens import create_exception_token
from tokenry.operations.token_activity import token_activity
from tokenry.operations.token_queries import list_tokens, show_token
from tokenry.operations.update_token import update_token
from tokenry.operations.users import users_by_id
from tokenry.present import activity_json, token_json, zendesk_user_json
from tokenry.storage.models import ApiToken

router = APIRouter(prefix="/api/v2/api_tokens", tags=["api_tokens"],
                   dependencies=[scoped("api_tokens")])


class NewApiToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: ShortText | None = None
    expires_at: datetime | None = None
    user_id: BodyId | None = None
    scopes: list[Annotated[str, Field(max_length=80)]] | None = Field(
        default=None, max_length=64,
        description="Zendesk-style scopes (read, write, users:read ...); none: the full "
                    "power of the token's user")


class NewApiTokenBody(BaseModel):
    api_token: NewApiToken


class ApiTokenChanges(BaseModel):
    # Other keys are passed on so the operation can explain why they cannot change.
    model_config = ConfigDict(extra="allow")
    description: ShortText | None = None
    active: StrictBool | None = None


class ApiTokenChangesBody(BaseModel):
    api_token: ApiTokenChanges


@router.get("", summary="List API tokens (include_users=true side-loads their users)",
            description="With no paging parameter the answer holds every token of the "
                        "account, as Zendesk's does, so a client that reads one response "
                        "misses none (at most 2,048, the large-account limit; an account "
                        "holding more, only by import, gets its first 100 with `next_page`). "
                        "`page`/`per_page` or `page[size]` page it.",
            operation_id="listApiTokens", responses=answers(schemas.ApiTokenList, 403, 422))
def list_api_tokens(request: Request, core: CoreDep, actor: CurrentActor, paging: Paging,
                    include_users: bool = False) -> dict[str, Any]:
    result = list_tokens(core, actor, paging or EveryRow(at_most=LARGE_LIMIT))
    body = page_json("api_tokens", [_json(request, t) for t in result.items], result, request)
    if include_users:  # Zendesk's side-loading: the users the tokens name, once each
        ids = {i for t in result.items for i in (t.user_id, t.created_by_id) if i is not None}
        body["users"] = [zendesk_user_json(u, resource_url(request, "users", u.id))
                         for u in users_by_id(core, actor, ids)]
    return body


def _json(request: Request, token: ApiToken, secret: str | None = None) -> dict[str, Any]:
    return token_json(token, secret=secret, url=resource_url(request, "api_tokens", token.id))


def _created(request: Request, response: Response, token: ApiToken,
             secret: str) -> dict[str, Any]:
    """The one response that carries the full token: never cached; Location names it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Location"] = resource_url(request, "api_tokens", token.id)
    return {"api_token": _json(request, token, secret)}


@router.post("", status_code=201, summary="Create an API token (the full token is shown once)",
             operation_id="createApiToken",
             responses=answers(schemas.ApiTokenBody, 403, 404, 422, status=201,
                               headers={**LOCATION, **NO_STORE}))
def create_api_token(request: Request, core: CoreDep, actor: CurrentActor,
                     body: NewApiTokenBody, response: Response) -> dict[str, Any]:
    created = create_token(core, actor, description=body.api_token.description,
                           expires_at=body.api_token.expires_at, user_id=body.api_token.user_id,
                           scopes=body.api_token.scopes)
    return _created(request, response, created.token, created.secret)


class ExceptionToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exception: Literal["personal", "automation", "target"]
    use_case: ShortText | None = None
    target: ShortText | None = None
    expires_at: datetime | None = None
    user_email: ShortText | None = Field(
        None, description="Who the token is bound to: required for target tokens (a service "
        "user); personal and automation tokens default to you")
    scopes: list[Annotated[str, Field(max_length=80)]] | None = Field(
        default=None, max_length=64, description="Zendesk-style scopes, as for any token")


class ExceptionTokenBody(BaseModel):
    api_token: ExceptionToken


@router.post("/exceptions", status_code=201,
             summary="A provisioner's token without a request: personal, automation or target",
             operation_id="createExceptionToken",
             responses=answers(schemas.ApiTokenBody, 403, 404, 422, status=201,
                               headers={**LOCATION, **NO_STORE}))
def create_exception(request: Request, core: CoreDep, actor: CurrentActor,
                     body: ExceptionTokenBody, response: Response) -> dict[str, Any]:
    wanted = body.api_token
    created = create_exception_token(core, actor, wanted.exception, use_case=wanted.use_case,
                                     target=wanted.target, expires_at=wanted.expires_at,
                                     user_email=wanted.user_email, scopes=wanted.scopes)
    return _created(request, response, created.token, created.secret)


@router.get("/activity", summary="API requests over time and their top sources",
            operation_id="showTokenActivity",
            responses=answers(schemas.ActivityBody, 403, 404, 422))
def activity(core: CoreDep, actor: CurrentActor,
             period: Literal["24h", "7d", "30d"] = "24h",
             token_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> dict[str, Any]:
    return {"activity": activity_json(token_activity(core, actor, period, token_id))}


@router.get("/{token_id}", summary="Show an API token (truncated)", operation_id="showApiToken",
            responses=answers(schemas.ApiTokenBody, 403, 404, 422))
def show_api_token(request: Request, core: CoreDep, actor: CurrentActor,
                   token_id: RecordId) -> dict[str, Any]:
    return {"api_token": _json(request, show_token(core, actor, token_id))}


@router.put("/{token_id}", summary="Edit the description, deactivate or reactivate",
            operation_id="updateApiToken",
            responses=answers(schemas.ApiTokenBody, 403, 404, 422))
def update_api_token(request: Request, core: CoreDep, actor: CurrentActor,
                     token_id: RecordId, body: ApiTokenChangesBody) -> dict[str, Any]:
    changes = body.api_token.model_dump(exclude_unset=True)
    return {"api_token": _json(request, update_token(core, actor, token_id, changes))}


@router.delete("/{token_id}", status_code=204, summary="Delete a deactivated API token",
               operation_id="deleteApiToken", response_model=None,
               responses=answers(None, 403, 404, 409, 422, status=204,
                                 description="Deleted"))
def delete_api_token(core: CoreDep, actor: CurrentActor, token_id: RecordId) -> Response:
    delete_token(core, actor, token_id)
    return Response(status_code=204)
