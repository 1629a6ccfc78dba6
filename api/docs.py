"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc``, with no CDN.

Swagger UI and ReDoc come from the ``fastapi-offline`` package (its ``static`` folder, served
at ``/docs-assets``); each page starts them from a file in ``/static`` instead of FastAPI's
inline ``<script>``, which the Content-Security-Policy (``api.middleware``) would refuse.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.middleware import content_security_policy

DOCS_ASSETS_URL = "/docs-assets"
DOCS_ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))

# ReDoc styles itself with styled-components, which inserts <style> elements at run time,
# and runs its search in a Worker made from a blob: URL: this page alone allows inline style
# and blob: workers (never inline script). Its sidebar's "Redocly" logo is an image on the
# vendor's CDN: refused, and the component hides itself. Swagger UI needs no exception.
REDOC_CSP = content_security_policy(style_src="'self' 'unsafe-inline'", worker_src="'self' blob:")

router = APIRouter(include_in_schema=False)


def _page(title: str, head: str, body: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n"
        f"<link rel=\"icon\" href=\"{DOCS_ASSETS_URL}/favicon.png\">\n{head}</head>\n"
        f"<body>\n{body}</body>\n</html>\n",
        headers=headers,
    )


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return _page(
        f"{request.app.title} - Swagger UI",
        f"<link rel=\"stylesheet\" href=\"{root}{DOCS_ASSETS_URL}/swagger-ui.css\">\n",
        f"<div id=\"swagger-ui\" data-openapi-url=\"{escape(root + request.app.openapi_url)}\"></div>\n"
        f"<script src=\"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js\"></script>\n"
        f"<script src=\"{root}/static/docs.js\"></script>\n",
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return _page(
        f"{request.app.title} - ReDoc",
        "",
        f"<div id=\"redoc\" data-openapi-url=\"{escape(root + request.app.openapi_url)}\"></div>\n"
        f"<script src=\"{root}{DOCS_ASSETS_URL}/redoc.standalone.js\"></script>\n"
        f"<script src=\"{root}/static/redoc.js\"></script>\n",
        {"Content-Security-Policy": REDOC_CSP},
    )
