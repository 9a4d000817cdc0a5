"""Error responses: JSON ``{"error": ...}`` (hf.co's shape) for the API, a page for everything else.

Validation errors are 422 with a message naming the parameter; nothing user-supplied reaches a 500.
A saturated or unreachable database (no connection free within ``db_pool_timeout``, SQLite's
write lock not granted in that time, PostgreSQL refusing connections or breaking a deadlock) is
503 with ``Retry-After``: the request changed nothing and may be repeated.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from dailypapers.web.deps import templates_of
from dailypapers.web.openapi import allowed_methods

TITLES = {400: "Bad request", 404: "Page not found", 405: "Method not allowed",
          422: "Invalid request", 429: "Too many requests", 503: "Busy"}

#: Seconds a client is asked to wait after a 503 for a busy database.
BUSY_RETRY_AFTER = 2

log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path.endswith(".json") or "application/json" in request.headers.get(
        "accept", "")


def _respond(request: Request, status: int, message: str, detail: Any = None,
             headers: dict[str, str] | None = None) -> Response:
    if _wants_json(request):
        content: dict[str, Any] = {"error": message}
        if detail is not None:
            content["detail"] = detail
        return JSONResponse(content, status_code=status, headers=headers)
    context = {"status": status, "title": TITLES.get(status, "Error"), "message": message,
               "alternates": []}
    return templates_of(request).TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers)


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        headers = getattr(exc, "headers", None)
        allowed = allowed_methods(request.app, request.url.path) if exc.status_code == 405 else None
        if allowed:
            # Every method of the resource, not only those of the first route that matched.
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return _respond(request, exc.status_code, message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return _respond(request, 422, _validation_message(errors), detail=errors)

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: Exception) -> Response:
        log.warning("database busy, answered 503: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return _respond(request, 503, "The site is busy right now; please try again in a moment.",
                        headers={"Retry-After": str(BUSY_RETRY_AFTER)})
