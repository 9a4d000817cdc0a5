"""The MCP server as assistants reach it, driven by the SDK's own client: ``dailypapers mcp`` as a
subprocess over stdio, and ``dailypapers serve`` over streamable HTTP at /mcp (both on the test's
real database). Each lists the tools and calls every one (tests/mcp/helpers.py)."""

from __future__ import annotations

import sys

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from dailypapers.settings import Settings
from tests.mcp.helpers import (
    FOLDING,
    SPARSE,
    check_personal_tools,
    check_public_tools,
    check_refused,
    fill,
    revoke,
    saved,
)
from tests.server import running_server, settings_env


def stdio_client(settings: Settings, token: str | None = None) -> Client:
    env = settings_env(settings)
    env.pop("DAILYPAPERS_MCP_TOKEN", None)
    if token is not None:
        env["DAILYPAPERS_MCP_TOKEN"] = token
    return Client(StdioServerParameters(command=sys.executable, args=["-m", "dailypapers", "mcp"], env=env))


def http_client(url: str, token: str | None = None, *, mode: str = "auto", keep_alive: bool = True) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx2.Limits() if keep_alive else httpx2.Limits(max_keepalive_connections=0)
    http = httpx2.AsyncClient(headers=headers, timeout=60, limits=limits)
    return Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode)


def test_stdio_subprocess_serves_every_tool(settings: Settings, db):
    catalog = fill(db)

    async def go() -> None:
        async with stdio_client(settings, catalog.token) as client:
            await check_public_tools(client, base_url=settings.base_url)
            await check_personal_tools(client, base_url=settings.base_url)
            assert saved(db, catalog) == {"Saved": [SPARSE], "Biology": [FOLDING]}
            revoke(db, catalog)  # while the server runs: its next call finds the token gone
            await check_refused(client, says="unknown or revoked API token")
        async with stdio_client(settings) as client:
            await check_refused(client, says="DAILYPAPERS_MCP_TOKEN")

    anyio.run(go)
    assert saved(db, catalog) == {"Saved": [SPARSE], "Biology": [FOLDING]}  # the refusals changed nothing


# legacy: the initialize handshake of older clients, against two workers with a new connection per
# request, so the handshake and the calls after it are spread over both processes as the kernel
# hands out connections (the endpoint keeps no session, so any worker answers any of them).
@pytest.mark.parametrize(("mode", "workers"), [("auto", 1), ("legacy", 2)])
def test_http_endpoint_serves_every_tool(settings: Settings, db, mode: str, workers: int):
    catalog = fill(db)
    with running_server(settings, workers=workers) as url:
        async def go() -> str:
            async with http_client(url, mode=mode, keep_alive=workers == 1) as anonymous:  # public tools need no token
                markdown = await check_public_tools(anonymous, base_url=url)
                await check_refused(anonymous, says="send it as `Authorization: Bearer <token>`")
            async with http_client(url, "dp_not-a-token", mode=mode, keep_alive=workers == 1) as forged:
                await check_refused(forged, says="unknown or revoked API token")
            async with http_client(url, catalog.token, mode=mode, keep_alive=workers == 1) as member:
                await check_personal_tools(member, base_url=url)
                revoke(db, catalog)
                await check_refused(member, says="unknown or revoked API token")
            return markdown

        markdown = anyio.run(go)
        assert saved(db, catalog) == {"Saved": [SPARSE], "Biology": [FOLDING]}
        # get_paper is /papers/{id}.md, to the byte.
        page = httpx.get(f"{url}/papers/{SPARSE}.md")
        assert page.status_code == 200 and page.text == markdown
        assert httpx.get(f"{url}/mcp").status_code == 405  # stateless JSON: no event stream to open
