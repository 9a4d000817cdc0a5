"""The MCP server on the site: ``POST /mcp`` (streamable HTTP), installed by ``create_app``.

Stateless and plain JSON: each POST is answered on its own, with no session kept in the worker
and no event stream, so any worker of ``serve --workers N`` can answer any request and the
site's middleware (body limit, compression, security headers) applies as to every route.

The ``mcp`` SDK is imported on the first ``/mcp`` request of a lifespan, not when the app is
built: it costs each web worker about 0.4 s of CPU and 20 MB at start, and most workers never
serve an assistant. Nothing at module level here imports it (tests/mcp/test_http_app.py checks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup, TaskStatus
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from dailypapers.search.engine import SearchEngine
from dailypapers.settings import Settings
from dailypapers.store.db import Database

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

PATH = "/mcp"


def _start_manager(settings: Settings, database: Database, engine: SearchEngine) -> StreamableHTTPSessionManager:
    """Import the SDK, build the server and its (not yet running) session manager."""
    from mcp.server.transport_security import TransportSecuritySettings

    from dailypapers.mcp.server import Tools, build_server

    server = build_server(Tools(settings=settings, database=database, engine=engine))
    server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, json_response=True,
        max_request_body_size=settings.max_body_bytes,
        # The SDK's DNS-rebinding check (Host and Origin against a list) stays off, as for
        # every other route: the public tools serve what the public pages do, and the
        # member's tools need a bearer token that a page rebinding its host to this server
        # cannot have. A host list here would be one more setting to get wrong.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    return server.session_manager  # the one that call made


class Endpoint:
    """``POST /mcp``, answered by the SDK's session manager, started on the first request of
    the app's current lifespan inside the task group that ``running`` holds open.

    The SDK's manager runs once and is spent; an app's lifespan can run more than once (a test
    client per block), so each run gets a fresh manager."""

    def __init__(self, *, settings: Settings, database: Database, engine: SearchEngine) -> None:
        self.settings = settings
        self.database = database
        self.engine = engine
        self.tasks: TaskGroup | None = None  # set while the app's lifespan runs
        self.manager: StreamableHTTPSessionManager | None = None
        self.lock: anyio.Lock | None = None  # per lifespan: a lock belongs to its event loop

    async def _running_manager(self, tasks: TaskGroup, lock: anyio.Lock) -> StreamableHTTPSessionManager:
        async with lock:  # concurrent first requests start one manager
            if self.manager is None:
                # Importing the SDK is CPU work of a few hundred ms: off the event loop.
                manager = await anyio.to_thread.run_sync(
                    _start_manager, self.settings, self.database, self.engine)
                await tasks.start(self._run, manager)
                self.manager = manager
            return self.manager

    @staticmethod
    async def _run(manager: StreamableHTTPSessionManager, *, task_status: TaskStatus[None]) -> None:
        async with manager.run():
            task_status.started()
            await anyio.sleep_forever()  # until ``running`` cancels the task group at shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tasks, lock = self.tasks, self.lock
        if tasks is None or lock is None:  # the app's lifespan is not running (a test client without one)
            await JSONResponse({"error": "the MCP endpoint is not running"}, status_code=503)(scope, receive, send)
            return
        manager = await self._running_manager(tasks, lock)
        await manager.asgi_app(scope, receive, send)


def install(app: FastAPI, *, settings: Settings, database: Database, engine: SearchEngine) -> Endpoint:
    """Add ``/mcp`` to ``app``; ``running(app)`` must wrap the app's lifespan."""
    endpoint = Endpoint(settings=settings, database=database, engine=engine)
    # A route, not a mount (a mount would answer /mcp with a redirect to /mcp/), and for POST
    # only: a GET would open an event stream that a stateless server never writes to, held open
    # until the client leaves. The spec's answer for "no stream here" is 405.
    app.router.routes.append(Route(PATH, endpoint=endpoint, methods=["POST"]))
    app.state.mcp = endpoint
    return endpoint


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The task group that the manager (once started) and its requests run in, for one run of
    the app's lifespan."""
    endpoint: Endpoint = app.state.mcp
    try:
        async with anyio.create_task_group() as tasks:
            endpoint.tasks, endpoint.lock = tasks, anyio.Lock()
            try:
                yield
            finally:
                endpoint.tasks = endpoint.lock = None
                tasks.cancel_scope.cancel()  # stops the manager and what it still runs
    finally:
        endpoint.manager = None
