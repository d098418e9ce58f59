"""``/api/v2/oauth/clients``: Zendesk's OAuth clients, plus tokenry's allowed scopes and
lifetimes. A confidential client's secret is shown in the create and generate_secret answers
only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from tokenry import schemas
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import LOCATION, NO_STORE, answers
from tokenry.http.links import resource_url
from tokenry.http.pagination import Paging, page_json
from tokenry.http.params import BodyId, RecordId, ShortText
from tokenry.http.scopes import scoped
from tokenry.operations.context import PageRequest
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.delete_oauth_client import delete_oauth_client
from tokenry.operations.oauth_client_queries import list_oauth_clients, show_oauth_client
from tokenry.operations.regenerate_client_secret import regenerate_client_secret
from tokenry.operations.update_oauth_client import update_oauth_client
from tokenry.present import oauth_client_json
from tokenry.storage.models import OAuthClient

router = APIRouter(prefix="/api/v2/oauth/clients", tags=["oauth"],
                   dependencies=[scoped("oauth")])

Uri = Annotated[StrictStr, Field(max_length=2000)]
Scope = Annotated[StrictStr, Field(max_length=100)]
Seconds = Annotated[StrictInt, Field(ge=0, le=10**9)]


class ClientInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText | None = None
    identifier: ShortText | None = None
    kind: Literal["public", "confidential"] | None = None
    redirect_uri: Annotated[list[Uri], Field(max_length=10)] | None = None
    allowed_scopes: Annotated[list[Scope], Field(max_length=64)] | None = None
    user_id: BodyId | None = None
    access_token_seconds: Seconds | None = None
    refresh_token_seconds: Seconds | None = None
    # Zendesk's optional fields tokenry keeps no use for; accepted so its clients work
    company: ShortText | None = None
    description: ShortText | None = None
    logo_url: ShortText | None = None


class ClientBody(BaseModel):
    client: ClientInput


def _fields(wanted: ClientInput) -> ClientFields:
    return ClientFields(name=wanted.name, identifier=wanted.identifier, kind=wanted.kind,
                        redirect_uris=wanted.redirect_uri, allowed_scopes=wanted.allowed_scopes,
                        user_id=wanted.user_id,
                        access_token_seconds=wanted.access_token_seconds,
                        refresh_token_seconds=wanted.refresh_token_seconds)


def _json(request: Request, client: OAuthClient, secret: str | None = None) -> dict[str, Any]:
    return oauth_client_json(client, secret=secret,
                             url=resource_url(request, "oauth/clients", client.id))


@router.get("", summary="List OAuth clients", operation_id="listOAuthClients",
            responses=answers(schemas.OAuthClientList, 403, 422))
def list_clients(request: Request, core: CoreDep, actor: CurrentActor,
                 paging: Paging) -> dict[str, Any]:
    result = list_oauth_clients(core, actor, paging or PageRequest())
    return page_json("clients", [_json(request, c) for c in result.items], result, request)


@router.post("", status_code=201, summary="Create an OAuth client (a confidential client's "
             "secret is shown once)", operation_id="createOAuthClient",
             responses=answers(schemas.OAuthClientBody, 403, 409, 422, status=201,
                               headers={**LOCATION, **NO_STORE}))
def create_client(request: Request, response: Response, core: CoreDep, actor: CurrentActor,
                  body: ClientBody) -> dict[str, Any]:
    created = create_oauth_client(core, actor, _fields(body.client))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Location"] = resource_url(request, "oauth/clients", created.client.id)
    return {"client": _json(request, created.client, created.secret)}


@router.get("/{client_id}", summary="Show an OAuth client", operation_id="showOAuthClient",
            responses=answers(schemas.OAuthClientBody, 403, 404, 422))
def show_client(request: Request, core: CoreDep, actor: CurrentActor,
                client_id: RecordId) -> dict[str, Any]:
    return {"client": _json(request, show_oauth_client(core, actor, client_id))}


@router.put("/{client_id}", summary="Edit an OAuth client", operation_id="updateOAuthClient",
            responses=answers(schemas.OAuthClientBody, 403, 404, 409, 422))
def update_client(request: Request, core: CoreDep, actor: CurrentActor, client_id: RecordId,
                  body: ClientBody) -> dict[str, Any]:
    given = body.client.model_dump(exclude_unset=True)
    for ignored in ("company", "description", "logo_url"):
        given.pop(ignored, None)
    if "redirect_uri" in given:
        given["redirect_uris"] = given.pop("redirect_uri")
    return {"client": _json(request, update_oauth_client(core, actor, client_id, given))}


@router.put("/{client_id}/generate_secret", summary="Regenerate a confidential client's "
            "secret (shown once; the old one stops working at once)",
            operation_id="generateOAuthClientSecret",
            responses=answers(schemas.OAuthClientBody, 403, 404, 409, 422,
                              headers=NO_STORE))
def generate_secret(request: Request, response: Response, core: CoreDep, actor: CurrentActor,
                    client_id: RecordId) -> dict[str, Any]:
    created = regenerate_client_secret(core, actor, client_id)
    response.headers["Cache-Control"] = "no-store"
    return {"client": _json(request, created.client, created.secret)}


@router.delete("/{client_id}", status_code=204, summary="Delete an OAuth client and its "
               "tokens", operation_id="deleteOAuthClient", response_model=None,
               responses=answers(None, 403, 404, 422, status=204, description="Deleted"))
def delete_client(core: CoreDep, actor: CurrentActor, client_id: RecordId) -> Response:
    delete_oauth_client(core, actor, client_id)
    return Response(status_code=204)
