"""The OpenAPI document (``/openapi.json``, shown at ``/docs``) describes the JSON API and tells
the truth about it: every status code and content type an operation answers, the bearer token
the write operations need, and request schemas that refuse exactly what the server refuses.

HTML pages and form posts are not part of it (``install`` hides every route outside ``/api/``).
``tests/web/test_openapi_fuzz.py`` holds the document to this with schemathesis against a real
server (docs/api.md, "Checking the API").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import FastAPI, Path
from fastapi.openapi.utils import get_openapi

from dailypapers.web.schemas import ApiError

API_PREFIX = "/api/"
TOKEN_SCHEME = "apiToken"

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                                "schema": {"type": "integer", "minimum": 0}}}
_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The request carries a NUL character (refused anywhere in a URL, header or body), or "
          "the body is not the JSON the operation reads.", {}),
    401: ("No `Authorization: Bearer <API token>` header, or an unknown or revoked token.",
          {"WWW-Authenticate": {"description": 'Bearer realm="dailypapers"',
                                "schema": {"type": "string"}}}),
    403: ("The token's user may not do this (e.g. submit for an organization they are not in).", {}),
    404: ("The paper (or the comment replied to, or the organization) does not exist.", {}),
    409: ("The change clashes with the present state (the paper is already featured; `url` "
          "links to it).", {}),
    413: ("The request body is larger than `DAILYPAPERS_MAX_BODY_BYTES`.", {}),
    422: ("A parameter or body field breaks this document's schema; `error` names it and "
          "`detail` lists each problem.", {}),
    429: ("Too many requests of this kind from this user; nothing was done.", _RETRY_AFTER),
    503: ("The server is saturated (or arXiv cannot be reached for a submission); nothing was "
          "done, the request may be repeated.", _RETRY_AFTER),
}

#: A paper in a path (its key or arXiv id): bounded, so no URL outgrows what the HTTP server reads.
PaperRef = Annotated[str, Path(max_length=200, description="The paper's arXiv id (or its key).")]
#: ``openapi_extra`` of the operations that need an API token.
TOKEN: dict[str, Any] = {"security": [{TOKEN_SCHEME: []}]}
#: Every operation may answer these.
COMMON = (400, 422, 503)
#: Operations that take a bearer token also answer these.
WRITE = (*COMMON, 401, 413, 429)


def responses(*codes: int, extra: dict[int | str, dict[str, Any]] | None = None
              ) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the error answers ``codes`` in the ``{"error": ...}`` shape."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted(set(codes)):
        description, headers = _ERRORS[code]
        out[code] = {"model": ApiError, "description": description}
        if headers:
            out[code]["headers"] = headers
    for status, value in (extra or {}).items():
        out[status] = {**out.get(status, {}), **value}
    return out


def link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link: what a response lets a client (and schemathesis' stateful phase) do next."""
    return {"operationId": operation_id, "parameters": parameters, "description": description}


#: What a list of daily-papers items lets a client do next (the stateful phase of the API check
#: follows these links from one operation's response to the next operation's parameters).
ITEM_LINKS: dict[str, Any] = {"links": {
    "paper": link("getPaper", "The first paper of the list.", paper_id="$response.body#/0/paper/id"),
    "similar": link("similarPapers", "Papers similar to the first one.",
                    paper_id="$response.body#/0/paper/id"),
}}


def _referenced(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _referenced(value)
    elif isinstance(node, list):
        for value in node:
            yield from _referenced(value)


def api_document(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document cut down to the JSON API: the paths under ``/api/`` and the schemas
    they use (HTML pages and form posts are the site, not the API), plus the token scheme."""
    paths = {path: ops for path, ops in document["paths"].items() if path.startswith(API_PREFIX)}
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.get("schemas", {})
    keep: set[str] = set()
    todo = list(_referenced(paths))
    while todo:
        name = todo.pop()
        if name not in keep and name in schemas:
            keep.add(name)
            todo.extend(_referenced(schemas[name]))
    components["schemas"] = {name: schema for name, schema in schemas.items() if name in keep}
    components["securitySchemes"] = {TOKEN_SCHEME: {
        "type": "http", "scheme": "bearer",
        "description": "An API token made at /account or with `dailypapers users create-token`."}}
    return {**document, "paths": paths}


def install(app: FastAPI) -> None:
    """Serve ``api_document`` as ``/openapi.json`` (built once, on the first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = api_document(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "(.+)", re.escape(path)) + "$")


def allowed_methods(app: FastAPI, path: str) -> list[str] | None:
    """The methods the API documents for ``path`` (for the ``Allow`` of a 405), or None outside it.

    Starlette lists the methods of the first route that matched the path only, but a resource
    can be served by several routes (POST and DELETE of ``/api/papers/{key}/upvote``). The most
    specific documented path wins (``/api/papers/{key}/upvote`` over ``/api/papers/{paper_id}``),
    as the routes are ordered.
    """
    if not path.startswith(API_PREFIX):
        return None
    best: tuple[int, dict[str, Any]] | None = None
    for template, operations in app.openapi()["paths"].items():
        if _template(template).match(path):
            literal = len(re.sub(r"\{[^}]*\}", "", template))
            if best is None or literal > best[0]:
                best = (literal, operations)
    return sorted(method.upper() for method in best[1]) if best else None
