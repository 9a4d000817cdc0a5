"""Interactive API docs at /docs: Swagger UI served from this server (the fastapi-offline
package ships its files), started by a script file rather than inline script, so the page
passes the same Content-Security-Policy as the rest of the site (plus inline styles)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from dailypapers.web.deps import templates_of

DESCRIPTION = (
    "The daily-papers API in Hugging Face's dialect: the same paths, parameters and field names "
    "as hf.co, so `huggingface_hub.HfApi(endpoint=...)` works unchanged. Errors are "
    '`{"error": "..."}` with status 404 (unknown paper) or 422 (invalid parameter). '
    "Feeds: /feeds/latest.rss, /feeds/trending.atom, /feeds/date/YYYY-MM-DD.rss, /feeds/orgs/HANDLE.atom."
)
ASSETS = "/docs-assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger(request: Request) -> Response:
    return templates_of(request).TemplateResponse(
        request, "docs.html", {"assets": ASSETS, "openapi_url": request.app.openapi_url})


def install(app: FastAPI) -> None:
    folder = Path(str(resources.files("fastapi_offline") / "static"))
    app.mount(ASSETS, StaticFiles(directory=folder), name="swagger")
    app.include_router(router)
