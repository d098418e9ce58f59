"""``/api/v2/access_requests``: file, list, show, approve, deny and cancel requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from tokenry import schemas
from tokenry.core import Core
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import LOCATION, answers
from tokenry.http.links import resource_url
from tokenry.http.pagination import Paging, page_json
from tokenry.http.params import (
    BodyId,
    LongText,
    RecordId,
    ShortQuery,
    ShortText,
)
from tokenry.http.scopes import scoped
from tokenry.operations._requests import link_of
from tokenry.operations.approve_request import approve_request
from tokenry.operations.context import PageRequest
from tokenry.operations.deny_request import cancel_request, deny_request
from tokenry.operations.request_queries import RequestFilter, list_requests, show_request
from tokenry.operations.resend_delivery import resend_delivery
from tokenry.operations.submit_request import Submission, submit_request
from tokenry.present import request_json
from tokenry.storage.models import AccessRequest

router = APIRouter(prefix="/api/v2/access_requests", tags=["access requests"],
                   dependencies=[scoped("access_requests")])
# a step in the request's life: the state may not allow it (409)
DECISION = answers(schemas.AccessRequestBody, 403, 404, 409, 422)


def _words(value: object) -> object:
    """Zendesk's space-separated scopes as a list, so a bad one is named ``scopes`` (a union
    of list and string would name pydantic's union members instead)."""
    return value.split() if isinstance(value, str) else value


Scopes = Annotated[list[ShortText], BeforeValidator(_words), Field(max_length=64)]


class NewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_name: ShortText | None = Field(None, max_length=200)
    purpose: LongText | None = None
    use_case: LongText | None = None
    removal_date: date | None = None
    admin_required: StrictBool = True
    admin_justification: LongText = ""
    for_email: ShortText | None = Field(None, description="Who the token is for (default: you)")
    extends_request_id: BodyId | None = None
    kind: Literal["api_token", "integration"] | None = Field(
        None, description="api_token (default) or integration: an OAuth client created as the "
        "account's Integration bot")
    scopes: Scopes | None = Field(
        None, description="Scopes (a list or Zendesk's space-separated string); required for "
        "an integration, optional for an API token (none: full access)")
    client_kind: Literal["public", "confidential"] | None = Field(
        None, description="Integration only: confidential (default) or public")
    redirect_uris: list[ShortText] | None = Field(
        None, description="Integration only: the exact redirect URIs; a public client needs one")


class NewRequestBody(BaseModel):
    access_request: NewRequest


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: Literal["manager", "provisioner"] | None = None
    acts_as: ShortText | None = Field(
        None, description="Provisioner stage: the email of the user the token acts as "
        "(default: the holder); it must be an admin when admin level is required")


class Denial(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: LongText


def _one(core: Core, request: AccessRequest) -> dict[str, Any]:
    return {"access_request": request_json(request, link_of(core, request))}


@router.post("", status_code=201, summary="File an access request",
             operation_id="createAccessRequest",
             responses=answers(schemas.AccessRequestBody, 403, 404, 422, status=201,
                               headers=LOCATION))
def create(request: Request, core: CoreDep, actor: CurrentActor, body: NewRequestBody,
           response: Response) -> dict[str, Any]:
    filed = submit_request(core, actor, Submission(**body.access_request.model_dump()))
    response.headers["Location"] = resource_url(request, "access_requests", filed.id)
    return _one(core, filed)


@router.get("", summary="List access requests you may see", operation_id="listAccessRequests",
            responses=answers(schemas.AccessRequestList, 403, 422))
def index(request: Request, core: CoreDep, actor: CurrentActor, paging: Paging,
          state: ShortQuery = None, mine: bool = False) -> dict[str, Any]:
    result = list_requests(core, actor, RequestFilter(state=state, mine=mine),
                           paging or PageRequest())
    items = [request_json(r, link_of(core, r)) for r in result.items]
    return page_json("access_requests", items, result, request)


@router.get("/{request_id}", summary="Show an access request", operation_id="showAccessRequest",
            responses=answers(schemas.AccessRequestBody, 403, 404, 422))
def show(core: CoreDep, actor: CurrentActor, request_id: RecordId) -> dict[str, Any]:
    return _one(core, show_request(core, actor, request_id))


@router.post("/{request_id}/approve", summary="Approve (manager stage, then provisioner stage)",
             operation_id="approveAccessRequest", responses=DECISION)
def approve(core: CoreDep, actor: CurrentActor, request_id: RecordId,
            body: Approval | None = None) -> dict[str, Any]:
    return _one(core, approve_request(core, actor, request_id, body.stage if body else None,
                                      acts_as=body.acts_as if body else None))


@router.post("/{request_id}/deny", summary="Deny with a reason", operation_id="denyAccessRequest",
             responses=DECISION)
def deny(core: CoreDep, actor: CurrentActor, request_id: RecordId, body: Denial) -> dict[str, Any]:
    return _one(core, deny_request(core, actor, request_id, body.reason))


@router.post("/{request_id}/resend_delivery",
             summary="Re-send the delivery: a new secret and a new one-time link for the holder",
             operation_id="resendDelivery", responses=DECISION)
def resend(core: CoreDep, actor: CurrentActor, request_id: RecordId) -> dict[str, Any]:
    return _one(core, resend_delivery(core, actor, request_id))


@router.post("/{request_id}/cancel", summary="Cancel your own request until it is issued",
             operation_id="cancelAccessRequest", responses=DECISION)
def cancel(core: CoreDep, actor: CurrentActor, request_id: RecordId) -> dict[str, Any]:
    return _one(core, cancel_request(core, actor, request_id))
