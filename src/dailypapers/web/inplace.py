"""In-place actions: the server half of ``static/site.js``.

A form marked ``data-inplace`` is still a plain form: without scripting it posts and the route
redirects back (303) as before. With scripting, ``site.js`` sends the same form with the header
``X-Inplace: 1``; the route then answers with the HTML fragment that replaces (or joins) a part
of the page, rendered by the very template the full page uses, so both paths show the same thing.
``X-Inplace-Status`` carries a short sentence that the script reads out through a live region.
Errors of such a request are answered as plain text (the script shows them next to the form).

Adding an action (save, follow): mark its form ``data-inplace="replace"`` inside an element with
``data-inplace-root``, and answer ``fragment(...)`` from its route when ``wants_fragment``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

HEADER = "x-inplace"


def back(request: Request, next_url: str | None, *, default: str, anchor: str = "") -> Response:
    """The plain form's answer (303): to ``next_url`` when given, else back to the page the form
    was on (its Referer, same site only), at ``#anchor`` so that an action far down a long page
    does not land at the top; else to ``default``."""
    target = next_url
    if not target:
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc == request.url.netloc and referer.path:
            query = f"?{referer.query}" if referer.query else ""
            target = f"{referer.path}{query}" + (f"#{anchor}" if anchor else "")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = default
    return RedirectResponse(target, status_code=303)


def wants_fragment(request: Request) -> bool:
    return request.headers.get(HEADER) == "1"


def fragment(request: Request, template: str, context: dict[str, Any], *, status: str = "",
             code: int = 200) -> Response:
    """Render one template as a fragment; never cached (it shows the viewer's own state)."""
    headers = {"Cache-Control": "no-store"}
    if status:
        headers["X-Inplace-Status"] = quote(status)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, template, context, status_code=code, headers=headers)


def error(status: int, message: str, *, login: str | None = None) -> Response:
    """A refused in-place request: the message as text; ``login`` names where to log in."""
    headers = {"Cache-Control": "no-store"}
    if login:
        headers["X-Inplace-Login"] = login
    return PlainTextResponse(message, status_code=status, headers=headers)
