"""The one place domain errors become HTTP responses. No body ever carries SQL or a secret."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tokenry.domain.errors import (
    Conflict,
    Forbidden,
    InsufficientScope,
    Invalid,
    NotFound,
    RateLimited,
    Throttled,
    TokenryError,
    Unauthenticated,
)
from tokenry.logs import redact

log = logging.getLogger("tokenry.http")
UNAUTHENTICATED_BODY = {"error": "Couldn't authenticate you"}


def unauthenticated_response() -> JSONResponse:
    return JSONResponse(UNAUTHENTICATED_BODY, status_code=401,
                        headers={"WWW-Authenticate": 'Basic realm="tokenry"'})


def _details(error: Invalid) -> dict[str, list[dict[str, str]]]:
    """Zendesk's shape: each problem with its ``description`` and its ``error`` code."""
    return {field: [{"description": f"{field}: {text}", "error": error.code(field)}
                    for text in texts] for field, texts in error.details.items()}


def error_response(error: TokenryError) -> JSONResponse:
    if isinstance(error, Unauthenticated):
        return unauthenticated_response()
    if isinstance(error, RateLimited):
        return JSONResponse({"error": "APIRateLimitExceeded", "description": error.description},
                            status_code=429, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, Throttled):
        return JSONResponse({"error": "TooManyRequests", "description": error.description},
                            status_code=429, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, Invalid):
        body: dict[str, Any] = {"error": "RecordInvalid", "description": error.description,
                                "details": _details(error)}
        return JSONResponse(body, status_code=422)
    if isinstance(error, InsufficientScope):  # RFC 6750's challenge, so OAuth clients know
        return JSONResponse(
            {"error": "Forbidden", "description": error.description}, status_code=403,
            headers={"WWW-Authenticate":
                     f'Bearer error="insufficient_scope", scope="{error.scope}"'})
    # The nearest mapped class up the error's MRO, so a new subclass keeps its status.
    status, code = next((_STATUS[kind] for kind in type(error).__mro__ if kind in _STATUS),
                        (400, "BadRequest"))
    return JSONResponse({"error": code, "description": error.description}, status_code=status)


_STATUS: dict[type, tuple[int, str]] = {
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "RecordNotFound"),
    Conflict: (409, "Conflict"),
}


def wants_page(request: Request) -> bool:
    """A person's browser asking for a page (not an API client)."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TokenryError)
    async def _domain(_: Request, error: TokenryError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        details: dict[str, list[str]] = {}
        blank: list[str] = []
        for problem in error.errors():
            # Zendesk keys details by the attribute's own name, not by its envelope.
            names = [p for p in problem.get("loc", ()) if isinstance(p, str)
                     and p not in ("body", "query", "path")]
            name = names[-1] if names else "base"
            details.setdefault(name, []).append(str(problem["msg"]))
            if problem.get("type") == "missing":
                blank.append(name)
        return error_response(Invalid("The request is not valid; see details.", details,
                                      blank=blank))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404 and wants_page(request):
            from tokenry.web.render import render

            return render(request, "message.html", {
                "title": "Page not found",
                "message": "There is no page at this address."}, status_code=404)
        code = {404: "InvalidEndpoint", 405: "MethodNotAllowed"}.get(error.status_code, "Error")
        return JSONResponse({"error": code, "description": str(error.detail)},
                            status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        return unexpected_response(request, error)


def unexpected_response(request: Request, error: Exception) -> JSONResponse:
    """A bug's answer: an incident number to quote, logged with the traceback; no detail."""
    incident = uuid.uuid4().hex[:12]
    log.error("unhandled error %s on %s %s: %s", incident, request.method,
              redact(request.url.path), type(error).__name__, exc_info=error)
    return JSONResponse({"error": "InternalError",
                         "description": f"Something went wrong (incident {incident})."},
                        status_code=500)
