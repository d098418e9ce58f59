"""The Admin Center: server-rendered pages over the same operations as the API and the CLI.

Pages are Jinja2 templates; the few enhancements (dialogs, menus, copy) are one small script,
and every asset is served from this package. Nothing is loaded from the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tokenry.web.routes import (
    account,
    activity,
    audit,
    auth,
    compliance,
    exceptions,
    oauth_clients,
    people,
    request_actions,
    requests,
    settings,
    tokens,
)

STATIC = Path(__file__).parent / "static"
# activity before tokens: /admin/api_tokens/activity is not one of tokens' /{token_id} routes
ROUTERS = (auth, account, activity, tokens, audit, exceptions, compliance, people, settings,
           requests, request_actions, oauth_clients)


def install_web(app: FastAPI) -> None:
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
