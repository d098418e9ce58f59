"""``/api/docs``: Swagger UI served from the package, so it works with no internet.

The assets come from the ``fastapi-offline`` package (a maintained bundle of Swagger UI 5).
The page's one inline script is allowed by its SHA-256 in the page's own
Content-Security-Policy, so no other inline script could run there.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/api/docs"
ASSETS = f"{DOCS}/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install_docs(app: FastAPI, openapi_url: str) -> None:
    page = get_swagger_ui_html(
        openapi_url=openapi_url, title=f"{app.title} API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png")
    body = bytes(page.body)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(body.decode()))
    policy = (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' "
              "'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")),
              name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})
