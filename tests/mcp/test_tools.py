"""The tools in process (the SDK's Client on the MCPServer object, a real database): every tool,
and what bad arguments get. The same server over stdio and HTTP: test_stdio.py, test_http.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from dailypapers.mcp.server import Tools, build_server
from dailypapers.search.engine import SearchEngine
from dailypapers.settings import Settings
from dailypapers.store.db import Database
from tests.mcp.helpers import FOLDING, SPARSE, check_public_tools, error_text, fill, saved


@pytest.fixture
def server(settings: Settings, database: Database, db) -> Iterator[MCPServer]:
    fill(db)
    engine = SearchEngine(settings)
    yield build_server(Tools(settings=settings, database=database, engine=engine))
    engine.stop()


def call(server: MCPServer, tool: str, arguments: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with Client(server) as client:
            return await client.call_tool(tool, arguments)

    return anyio.run(go)


def test_every_public_tool_in_process(server: MCPServer, settings: Settings):
    async def go() -> None:
        async with Client(server) as client:
            await check_public_tools(client, base_url=settings.base_url)

    anyio.run(go)


@pytest.mark.parametrize(("tool", "arguments", "says"), [
    ("list_daily_papers", {"period": "2025-13"}, "'2025-13' is not a real month"),
    ("list_daily_papers", {"period": "yesterday"}, "period: day must look like"),
    ("search_papers", {"query": "x", "limit": 500}, "limit"),
    ("search_papers", {"query": "x", "sort": "random"}, "sort"),
    ("search_papers", {"query": "x" * 2001}, "query"),
    ("similar_papers", {"paper_id": "nothing-like-this"}, "no paper 'nothing-like-this'"),
    ("get_paper", {"paper_id": ""}, "paper_id"),
    ("trending", {"page": 0}, "page"),
    ("for_you", {"day": "2025-13-01"}, "day"),
    ("for_you", {"limit": 51}, "limit"),
])
def test_bad_arguments_are_tool_errors_naming_them(server: MCPServer, tool: str, arguments: dict[str, Any],
                                                   says: str):
    assert says in error_text(call(server, tool, arguments))


def test_a_filter_that_matches_nothing_answers_nothing(server: MCPServer):
    result = call(server, "search_papers", {"query": "", "published_from": "2025-02-01",
                                            "published_to": "2025-01-01"})
    assert result.structured_content == {"papers": [], "total": 0, "page": 1, "notice": None}


def test_days_without_papers_and_pages_past_the_end_are_empty(server: MCPServer):
    assert call(server, "list_daily_papers", {"period": "2024-12-31"}).structured_content["papers"] == []
    assert call(server, "trending", {"page": 1000}).structured_content["papers"] == []
    past = call(server, "search_papers", {"query": "protein", "page": 1000})
    assert past.structured_content["papers"] == [] and past.structured_content["total"] == 1
    assert call(server, "search_papers", {"query": FOLDING}).structured_content["papers"][0]["id"] == FOLDING


def test_save_paper_refusals_change_nothing(settings: Settings, database: Database, db):
    catalog = fill(db)
    engine = SearchEngine(settings)
    member = build_server(Tools(settings=settings, database=database, engine=engine, token=catalog.token))
    try:
        assert "collection" in error_text(call(member, "save_paper", {"paper_id": FOLDING, "collection": "x" * 101}))
        assert "no paper" in error_text(call(member, "save_paper", {"paper_id": "hep-th/0000000"}))
        assert saved(db, catalog) == {}
        blank = call(member, "save_paper", {"paper_id": FOLDING, "collection": "   "}).structured_content
        assert blank["collection"] == "Saved" and saved(db, catalog) == {"Saved": [FOLDING]}
    finally:
        engine.stop()


def test_save_paper_counts_against_the_members_library_limit(settings: Settings, database: Database, db):
    catalog = fill(db)
    engine = SearchEngine(settings)
    strict = settings.model_copy(update={"rate_limit_scale": 0.01})  # one library change a minute
    member = build_server(Tools(settings=strict, database=database, engine=engine, token=catalog.token))
    try:
        assert call(member, "save_paper", {"paper_id": FOLDING}).is_error is False
        assert "Too many library changes" in error_text(call(member, "save_paper", {"paper_id": SPARSE}))
        assert saved(db, catalog) == {"Saved": [FOLDING]}
    finally:
        engine.stop()
