"""The Admin Center: server-rendered pages over the same operations as the API and the CLI.

Pages are Jinja2 templates; the few enhancements (dialogs, menus, copy) are one small script,
and every asset is served from this package. Nothing is loaded from the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tokenry.web.routes import activity, audit, auth, tokens

STATIC = Path(__file__).parent / "static"
ROUTERS = (auth, activity, tokens, audit)  # activity before tokens' /{token_id} routes


def install_web(app: FastAPI) -> None:
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
