"""One-time delivery links: a JSON API and a small page for people.

Opening the page does not consume the link (mail scanners and chat previews fetch links);
only the explicit POST behind its button does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from tokenry import schemas
from tokenry.domain.errors import TokenryError
from tokenry.http.deps import CoreDep, client_ip
from tokenry.http.documented import answers, header
from tokenry.operations.retrieve_delivery import delivery_status, retrieve_delivery

router = APIRouter(tags=["deliveries"])
templates = Jinja2Templates(directory=Path(__file__).parents[2] / "web" / "templates")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex"}


@router.get("/api/v2/deliveries/{link_secret}", summary="Whether a delivery link can be used",
            operation_id="showDelivery",
            responses=answers(schemas.DeliveryStatusBody, 404, 422, signed_in=False))
def status(core: CoreDep, link_secret: str) -> dict[str, Any]:
    found = delivery_status(core, link_secret)
    return {"delivery": {"state": found.state, "holds": found.holds,
                         "expires_at": found.expires_at.isoformat(),
                         "retrieved_at": found.retrieved_at.isoformat()
                         if found.retrieved_at else None, "request_id": found.request_id}}


@router.post("/api/v2/deliveries/{link_secret}/retrieve",
             summary="Retrieve the token (or an integration's client secret) once; the link "
                     "is then spent",
             operation_id="retrieveDelivery", response_model=None,
             responses=answers(schemas.RetrievedTokenBody, 404, 409, 422, signed_in=False,
                               headers={"Cache-Control": header("no-store", required=True)}))
def retrieve(core: CoreDep, request: Request, link_secret: str) -> JSONResponse:
    got = retrieve_delivery(core, link_secret, ip=client_ip(request),
                            user_agent=request.headers.get("user-agent"))
    if got.oauth_client_id is not None:
        body = {"client_secret": got.secret, "client_identifier": got.client_identifier,
                "oauth_client_id": got.oauth_client_id, "request_id": got.request_id}
    else:
        body = {"token": got.secret, "token_id": got.token_id, "request_id": got.request_id}
    return JSONResponse({"delivery": body}, headers=NO_STORE)


@router.get("/deliveries/{link_secret}", response_class=HTMLResponse, include_in_schema=False)
def page(core: CoreDep, request: Request, link_secret: str) -> HTMLResponse:
    try:
        found = delivery_status(core, link_secret)
        context: dict[str, Any] = {"state": found.state, "found": found}
    except TokenryError as error:
        context = {"state": "invalid", "message": error.description}
    return templates.TemplateResponse(request, "delivery.html", context, headers=NO_STORE)


@router.post("/deliveries/{link_secret}", response_class=HTMLResponse, include_in_schema=False)
def reveal(core: CoreDep, request: Request, link_secret: str) -> HTMLResponse:
    try:
        got = retrieve_delivery(core, link_secret, ip=client_ip(request),
                                user_agent=request.headers.get("user-agent"))
        context: dict[str, Any] = {"state": "revealed", "secret": got.secret,
                                   "identifier": got.client_identifier}
    except TokenryError as error:
        context = {"state": "refused", "message": error.description}
    return templates.TemplateResponse(request, "delivery.html", context, headers=NO_STORE)
