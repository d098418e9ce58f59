"""Declare tokenry's credentials in the OpenAPI document, so /api/docs can authorise calls.

Authentication runs in a dependency (see ``http.deps``) rather than FastAPI's security
classes, to keep the hot path lean; this adds the matching description at no request cost.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PUBLIC_PATHS = ("/healthz", "/deliveries/", "/api/v2/deliveries/", "/calendar/")
SCHEMES = {
    "zendeskToken": {"type": "http", "scheme": "basic",
                     "description": "username `{email}/token`, password: the API token"},
    "boundToken": {"type": "http", "scheme": "bearer",
                   "description": "an API token bound to a user"},
    "password": {"type": "http", "scheme": "basic",
                 "description": "`{email}` and password, where the account allows it"},
}


def _bare_references(operation: dict[str, Any]) -> None:
    """A documented model (``tokenry.http.documented``) is merged into the schema FastAPI
    infers from a handler's ``dict`` annotation; the model alone is the truth."""
    for answer in operation.get("responses", {}).values():
        for media in answer.get("content", {}).values():
            if "$ref" in media.get("schema", {}):
                media["schema"] = {"$ref": media["schema"]["$ref"]}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                                 description="Zendesk-compatible API tokens and their "
                                             "governance. Paths also answer with `.json`.")
            schema.setdefault("components", {})["securitySchemes"] = SCHEMES
            required: list[dict[str, list[str]]] = [{name: []} for name in SCHEMES]
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    _bare_references(operation)
                    if not path.startswith(PUBLIC_PATHS):
                        operation["security"] = required
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
