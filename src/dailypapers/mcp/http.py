"""The MCP server on the site: ``POST /mcp`` (streamable HTTP), installed by ``create_app``.

Stateless and plain JSON: each POST is answered on its own, with no session kept in the worker
and no event stream, so any worker of ``serve --workers N`` can answer any request and the
site's middleware (body limit, compression, security headers) applies as to every route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from dailypapers.mcp.server import Tools, build_server
from dailypapers.search.engine import SearchEngine
from dailypapers.settings import Settings
from dailypapers.store.db import Database

PATH = "/mcp"


def install(app: FastAPI, *, settings: Settings, database: Database, engine: SearchEngine) -> MCPServer:
    """Add ``/mcp`` to ``app``; ``running(app)`` must wrap the app's lifespan."""
    server = build_server(Tools(settings=settings, database=database, engine=engine))
    endpoint = server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, json_response=True,
        max_request_body_size=settings.max_body_bytes,
        # The SDK's DNS-rebinding check (Host and Origin against a list) stays off, as for every
        # other route: the public tools serve what the public pages do, and the personal ones
        # need a bearer token that a page rebinding its host to this server cannot have. Hosts
        # come from the operator's proxy; a list here would be one more setting to get wrong.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    # The endpoint's route itself, not a mount (a mount would answer /mcp with a redirect to
    # /mcp/), and for POST only: a GET would open an event stream that a stateless server never
    # writes to, held open until the client leaves. The spec's answer for no stream is 405.
    sdk_route = endpoint.routes[0]
    assert isinstance(sdk_route, Route) and sdk_route.path == PATH
    app.router.routes.append(Route(PATH, endpoint=sdk_route.endpoint, methods=["POST"]))
    app.state.mcp = server
    return server


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The task group that stateless requests run in, for the app's lifetime."""
    server: MCPServer = app.state.mcp
    async with server.session_manager.run():
        yield
