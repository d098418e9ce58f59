"""What each operation answers, for the OpenAPI document: its body, its headers and its errors.

Routes pass ``responses=answers(Model, 403, 404, ...)``. FastAPI then documents the models of
``tokenry.schemas`` without validating or re-serialising each answer through them: the hot
routes (``users/me``, ``verify``) answer prepared bytes, and the others keep their cheap
``dict`` path. The tests check that every answer matches what is documented here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from tokenry import schemas

Header = dict[str, Any]


def header(description: str, *, kind: str = "string", required: bool = False) -> Header:
    return {"description": description, "required": required, "schema": {"type": kind}}


# Every answer to a signed-in request carries the account's rate-limit state.
RATE_LIMIT_HEADERS: dict[str, Header] = {
    "X-Rate-Limit": header("Requests the account may make per minute", kind="integer"),
    "X-Rate-Limit-Remaining": header("Requests left in this minute", kind="integer"),
    "ratelimit-limit": header("As X-Rate-Limit", kind="integer"),
    "ratelimit-remaining": header("As X-Rate-Limit-Remaining", kind="integer"),
    "ratelimit-reset": header("Seconds until the window resets", kind="integer"),
}
LOCATION = {"Location": header("The new record's API address", required=True)}
NO_STORE = {"Cache-Control": header("no-store: the answer carries a secret", required=True)}

_ERRORS: dict[int, tuple[type[BaseModel], str, dict[str, Header]]] = {
    401: (schemas.Unauthorized, "The credentials are missing, wrong or unusable", {
        "WWW-Authenticate": header("Basic realm", required=True)}),
    403: (schemas.Error, "Signed in, but not allowed to do this", {}),
    404: (schemas.Error, "No such record in this account", {}),
    409: (schemas.Error, "The record's state does not allow this", {}),
    422: (schemas.RecordInvalid, "The request is not valid; details names each field", {}),
    429: (schemas.TooManyRequests, "Too many failed sign-ins from this source, or the "
          "account's rate limit is spent", {
              "Retry-After": header("Seconds to wait", kind="integer", required=True)}),
}
SIGNED_IN = (401, 429)  # any operation that needs credentials can answer these


def answers(body: type[BaseModel] | None, *errors: int, status: int = 200,
            description: str = "Success", headers: Mapping[str, Header] | None = None,
            signed_in: bool = True) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of one operation: ``body`` (``None`` for no content) at ``status``,
    with ``headers``, and each of ``errors`` with tokenry's error body. ``signed_in`` adds
    the 401, the 429 and the rate-limit headers."""
    success: dict[str, Any] = {"description": description,
                               "headers": {**(RATE_LIMIT_HEADERS if signed_in else {}),
                                           **(headers or {})}}
    if body is not None:
        success["model"] = body
    documented: dict[int | str, dict[str, Any]] = {status: success}
    for code in sorted({*errors, *(SIGNED_IN if signed_in else ())}):
        model, meaning, error_headers = _ERRORS[code]
        documented[code] = {"model": model, "description": meaning, "headers": error_headers}
    return documented
