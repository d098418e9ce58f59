"""``/api/v2/oauth/tokens``: Zendesk's OAuth tokens of the account: list, show, create one
for a client as yourself (the full token shown once), revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from tokenry import schemas
from tokenry.domain.text import MAX_ID
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import LOCATION, NO_STORE, answers
from tokenry.http.links import resource_url
from tokenry.http.pagination import Paging, page_json
from tokenry.http.params import BodyId, RecordId
from tokenry.http.scopes import scoped
from tokenry.operations.context import PageRequest
from tokenry.operations.create_oauth_token import create_oauth_token
from tokenry.operations.oauth_token_queries import (
    current_oauth_token,
    list_oauth_tokens,
    show_oauth_token,
)
from tokenry.operations.revoke_oauth_token import (
    revoke_current_oauth_token,
    revoke_oauth_token,
)
from tokenry.present import oauth_token_json
from tokenry.storage.models import OAuthToken

router = APIRouter(prefix="/api/v2/oauth/tokens", tags=["oauth"],
                   dependencies=[scoped("oauth")])


class TokenInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: BodyId
    scopes: Annotated[list[Annotated[StrictStr, Field(max_length=100)]],
                      Field(max_length=64)] | None = None


class TokenBody(BaseModel):
    token: TokenInput


def _url(request: Request, token: OAuthToken) -> str:
    return resource_url(request, "oauth/tokens", token.id)


@router.get("", summary="List the account's OAuth tokens", operation_id="listOAuthTokens",
            responses=answers(schemas.OAuthTokenList, 403, 422))
def list_tokens(request: Request, core: CoreDep, actor: CurrentActor, paging: Paging,
                client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
                ) -> dict[str, Any]:
    result = list_oauth_tokens(core, actor, paging or PageRequest(), client_id)
    items = [oauth_token_json(t, url=_url(request, t)) for t in result.items]
    return page_json("tokens", items, result, request)


@router.post("", status_code=201, summary="Create an OAuth token for a client, acting as "
             "you (the full token is shown once)", operation_id="createOAuthToken",
             responses=answers(schemas.OAuthTokenBody, 403, 404, 409, 422, status=201,
                               headers={**LOCATION, **NO_STORE}))
def create_token(request: Request, response: Response, core: CoreDep, actor: CurrentActor,
                 body: TokenBody) -> dict[str, Any]:
    minted = create_oauth_token(core, actor, body.token.client_id, body.token.scopes)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Location"] = _url(request, minted.token)
    return {"token": oauth_token_json(minted.token, url=_url(request, minted.token),
                                      full_token=minted.access_token,
                                      refresh_token=minted.refresh_token)}


@router.get("/current", summary="Show the OAuth token this request was made with",
            operation_id="showCurrentOAuthToken",
            responses=answers(schemas.OAuthTokenBody, 403, 404))
def show_current(request: Request, core: CoreDep, actor: CurrentActor) -> dict[str, Any]:
    token = current_oauth_token(core, actor)
    return {"token": oauth_token_json(token, url=_url(request, token))}


@router.delete("/current", status_code=204, summary="Revoke the OAuth token this request "
               "was made with", operation_id="revokeCurrentOAuthToken", response_model=None,
               responses=answers(None, 403, 404, status=204, description="Revoked"))
def revoke_current(core: CoreDep, actor: CurrentActor) -> Response:
    revoke_current_oauth_token(core, actor)
    return Response(status_code=204)


@router.get("/{token_id}", summary="Show an OAuth token (truncated)",
            operation_id="showOAuthToken",
            responses=answers(schemas.OAuthTokenBody, 403, 404, 422))
def show_token(request: Request, core: CoreDep, actor: CurrentActor,
               token_id: RecordId) -> dict[str, Any]:
    token = show_oauth_token(core, actor, token_id)
    return {"token": oauth_token_json(token, url=_url(request, token))}


@router.delete("/{token_id}", status_code=204, summary="Revoke an OAuth token (and its "
               "refresh token)", operation_id="revokeOAuthToken", response_model=None,
               responses=answers(None, 403, 404, 422, status=204, description="Revoked"))
def revoke_token(core: CoreDep, actor: CurrentActor, token_id: RecordId) -> Response:
    revoke_oauth_token(core, actor, token_id)
    return Response(status_code=204)
