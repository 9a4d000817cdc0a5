"""The MCP server on the site: ``POST /mcp`` (streamable HTTP), installed by ``create_app``.

Stateless and plain JSON: each POST is answered on its own, with no session kept in the worker
and no event stream, so any worker of ``serve --workers N`` can answer any request and the
site's middleware (body limit, compression, security headers) applies as to every route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from dailypapers.mcp.server import Tools, build_server
from dailypapers.search.engine import SearchEngine
from dailypapers.settings import Settings
from dailypapers.store.db import Database

PATH = "/mcp"


class Endpoint:
    """``POST /mcp``, answered by the SDK's session manager of the app's current lifespan.

    The SDK's manager runs once and is spent; an app's lifespan can run more than once (a test
    client per block), so each run gets a fresh manager (``start``)."""

    def __init__(self, server: MCPServer, settings: Settings) -> None:
        self.server = server
        self.settings = settings
        self.manager: StreamableHTTPSessionManager | None = None

    def start(self) -> StreamableHTTPSessionManager:
        self.server.streamable_http_app(
            streamable_http_path=PATH, stateless_http=True, json_response=True,
            max_request_body_size=self.settings.max_body_bytes,
            # The SDK's DNS-rebinding check (Host and Origin against a list) stays off, as for
            # every other route: the public tools serve what the public pages do, and the
            # member's tools need a bearer token that a page rebinding its host to this server
            # cannot have. A host list here would be one more setting to get wrong.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        self.manager = self.server.session_manager  # the one that call made
        return self.manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self.manager
        if manager is None:  # the app's lifespan is not running (a test client without one)
            await JSONResponse({"error": "the MCP endpoint is not running"}, status_code=503)(scope, receive, send)
            return
        await manager.asgi_app(scope, receive, send)


def install(app: FastAPI, *, settings: Settings, database: Database, engine: SearchEngine) -> MCPServer:
    """Add ``/mcp`` to ``app``; ``running(app)`` must wrap the app's lifespan."""
    server = build_server(Tools(settings=settings, database=database, engine=engine))
    endpoint = Endpoint(server, settings)
    # A route, not a mount (a mount would answer /mcp with a redirect to /mcp/), and for POST
    # only: a GET would open an event stream that a stateless server never writes to, held open
    # until the client leaves. The spec's answer for "no stream here" is 405.
    app.router.routes.append(Route(PATH, endpoint=endpoint, methods=["POST"]))
    app.state.mcp = endpoint
    return server


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The task group that stateless requests run in, for one run of the app's lifespan."""
    endpoint: Endpoint = app.state.mcp
    try:
        async with endpoint.start().run():
            yield
    finally:
        endpoint.manager = None
