"""Compressed responses: brotli or gzip, as the client's ``Accept-Encoding`` allows, for HTML,
JSON, feeds and other text over 1 KB (a 97-card day is 304 KB of HTML, about 40 KB gzipped).

``Compress`` is a pure ASGI middleware outside the page cache. It compresses complete bodies
(every route here sends its body in one message; streamed bodies pass through untouched) and
leaves alone a response that already has a ``Content-Encoding``: the page cache compresses its
hits itself (``encoded``), once per cached page and encoding, not once per request.

Every response that could be compressed says ``Vary: Accept-Encoding``, compressed or not, so a
shared cache never hands gzip to a client that did not ask for it. A compressed body is another
representation of the same content, so its ETag becomes weak (``W/"…"``, what nginx does); the
page cache compares validators weakly, as RFC 9110 says ``If-None-Match`` must, so a browser
revalidating its gzip copy still gets ``304 Not Modified``.
"""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import brotli  # type: ignore[import-untyped]  # (no stubs shipped)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MIN_SIZE = 1024  # below this the headers and the codec's framing eat the gain
# Fast settings: pages are compressed per request when they cannot be cached. gzip 5 is within
# 2 % of level 6's size for our pages at half its time; brotli 4 beats gzip 6 in size and time.
GZIP_LEVEL = 5
BROTLI_QUALITY = 4
_TEXT_TYPES = (b"text/", b"application/json", b"application/xml", b"application/rss+xml",
               b"application/atom+xml", b"application/javascript", b"image/svg+xml")


def negotiate(accept_encoding: bytes | None) -> str | None:
    """``"br"``, ``"gzip"`` or ``None`` (identity) for an ``Accept-Encoding`` header value.

    Honours ``q=0`` (refused) and ``*``; prefers brotli when both are acceptable, as browsers
    list both and brotli is smaller.
    """
    if not accept_encoding:
        return None
    accepted: dict[str, float] = {}
    for part in accept_encoding.decode("latin-1").lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        accepted[name.strip()] = quality
    wildcard = accepted.get("*", 0.0)
    for coding in ("br", "gzip"):
        if accepted.get(coding, wildcard) > 0:
            return coding
    return None


def compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def compressible(headers: list[tuple[bytes, bytes]], size: int) -> bool:
    """Text worth compressing that nobody has encoded yet."""
    if size < MIN_SIZE:
        return False
    content_type = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-encoding":
            return False
        if lowered == b"content-type":
            content_type = value.lower()
    return content_type.startswith(_TEXT_TYPES) or content_type.endswith(b"+json")


def with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Accept-Encoding`` added to ``Vary`` (merged into an existing one)."""
    out: list[tuple[bytes, bytes]] = []
    merged = False
    for name, value in headers:
        if name.lower() == b"vary" and not merged:
            if b"accept-encoding" not in value.lower():
                value = value + b", Accept-Encoding"
            merged = True
        out.append((name, value))
    if not merged:
        out.append((b"vary", b"Accept-Encoding"))
    return out


def encoded(headers: list[tuple[bytes, bytes]], body: bytes, coding: str) -> list[tuple[bytes, bytes]]:
    """The headers of ``body`` (already compressed with ``coding``): its length, its encoding,
    and a weak ETag."""
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            continue
        if lowered == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value
        out.append((name, value))
    out.append((b"content-encoding", coding.encode()))
    out.append((b"content-length", str(len(body)).encode()))
    return with_vary(out)


def weak_match(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110's weak comparison of ``If-None-Match`` (a list, or ``*``) with an ETag."""
    bare = etag.removeprefix(b"W/")
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate == b"*" or candidate.removeprefix(b"W/") == bare:
            return True
    return False


class Compress:
    """Compress complete text bodies over ``MIN_SIZE`` for clients that accept it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                coding = negotiate(value)
                break
        start: Message | None = None

        async def compressing(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message  # held until the body shows whether it is worth compressing
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held, start = start, None
            body = message.get("body", b"")
            headers = list(held["headers"])
            if message.get("more_body", False) or not compressible(headers, len(body)):
                await send(held)
                await send(message)
                return
            if coding is None:
                await send({**held, "headers": with_vary(headers)})
                await send(message)
                return
            body = compress(body, coding)
            await send({**held, "headers": encoded(headers, body, coding)})
            await send({**message, "body": body})

        await self.app(scope, receive, compressing)
