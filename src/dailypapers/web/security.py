"""Security headers on every response, including a Content-Security-Policy that allows no inline
script or event handler: pages load only /static/theme.js and /static/site.js (and work without
them), and /docs loads its own from /static."""

from __future__ import annotations

from starlette.exceptions import HTTPException

from dailypapers.web.caching import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI sets style attributes from its script; it still runs no inline script.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

HSTS = b"max-age=31536000"
HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


class SecurityHeaders:
    """Adds ``HEADERS`` and the CSP to every HTTP response (the app's own headers are kept)."""

    def __init__(self, app: ASGIApp, *, docs_path: str = "/docs", remote_images: bool = False,
                 hsts: bool = False) -> None:
        self.app = app
        self.docs_path = docs_path
        # DAILYPAPERS_REMOTE_IMAGES: avatars and thumbnails that sources link to on other hosts.
        images = "img-src 'self' data: https:" if remote_images else "img-src 'self' data:"
        self.csp = CSP.replace("img-src 'self' data:", images).encode()
        self.docs_csp = DOCS_CSP.replace("img-src 'self' data:", images).encode()
        # Only when the site's base URL is https: a browser that saw it over https never again
        # tries plain http (no downgrade on a hostile network). Not sent for http sites, where it
        # would be ignored anyway and misleading.
        self.headers = [*HEADERS, (b"strict-transport-security", HSTS)] if hsts else HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs_csp if scope["path"] == self.docs_path else self.csp

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message["headers"]}
                extra = [(k, v) for k, v in self.headers if k not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", csp))
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class RejectNul:
    """Answers 400 to a request whose path or query string holds a NUL character.

    No URL of the site has one, and PostgreSQL rejects NUL in text parameters: without this, an
    id like ``%00`` would reach a query and fail there instead of being refused up front.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"]
                                        or b"%00" in scope["query_string"]
                                        or b"\x00" in scope["query_string"]):
            body = b'{"error":"NUL characters are not allowed in URLs"}'
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body crosses the limit; rendered as 413 by the error handlers."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes")


class BodyLimit:
    """One limit for every request body, counted while it streams in.

    A declared ``Content-Length`` over the limit is answered 413 before the app runs at all; a
    chunked body is cut off at the first chunk that crosses it (FastAPI reads bodies before any
    dependency runs, so this happens before authentication too). Either way at most ``limit``
    bytes are held, and the 413 says ``Connection: close`` so that uvicorn stops reading instead
    of draining the rest of a 400 MB upload.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            body = b'{"error":"the request body is larger than %d bytes"}' % self.limit
            await send({"type": "http.response.start", "status": 413,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode()),
                                    (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                message["headers"] = [*message["headers"], (b"connection", b"close")]
            await send(message)

        await self.app(scope, counted, closing)
