"""The care-worker web app: server-rendered pages under /app (Jinja2, a little vanilla JS).

The token lives in an HttpOnly, SameSite=Strict cookie, so the pages' EventSource and fetch
calls reach the same /v1 API with the same scoping and audit as any other client. One module
per page in ``api/web/pages/``; what they share in ``api/web/render.py``.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web.pages import auth, caseload, enrollee, inbox, region, worklist
from api.web.pages.enrollee import DeviceLine, device_lines

router = APIRouter()
for page in (auth, inbox, enrollee, region, caseload, worklist):
    router.include_router(page.router, include_in_schema=False)

__all__ = ["DeviceLine", "device_lines", "router"]
