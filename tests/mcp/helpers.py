"""The catalog every MCP test serves, and the checks shared by the stdio, HTTP and in-process tests."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent
from sqlalchemy.orm import Session

from dailypapers.mcp.server import UNAUTHORIZED
from dailypapers.services import collections, library, sessions
from tests.factories import make_paper, make_user

PUBLIC = {"search_papers", "get_paper", "list_daily_papers", "similar_papers", "trending"}
PERSONAL = {"for_you", "save_paper"}
TOOLS = PUBLIC | PERSONAL
SPARSE, KERNELS, FOLDING = "2501.90001", "2501.90002", "2501.90003"


@dataclass
class Catalog:
    token: str  # a member's API token
    token_id: int
    user_id: int


def fill(db: Session) -> Catalog:
    """Three featured papers over two days, and a member with an API token."""
    make_paper(db, arxiv_id=SPARSE, title="Sparse attention for long-context transformers",
               abstract="We make attention sparse so that transformers read long contexts; "
                        "the cost falls from $O(n^2)$ to $O(n \\log n)$.",
               authors=["Ada Lovelace", "Alan Turing"], featured_on=dt.date(2025, 1, 6), upvotes=30,
               github_repo="https://github.com/example/sparse")
    make_paper(db, arxiv_id=KERNELS, title="Sparse attention kernels for long contexts on GPUs",
               abstract="Fast kernels for sparse attention in transformers with long contexts.",
               featured_on=dt.date(2025, 1, 6), upvotes=5)
    make_paper(db, arxiv_id=FOLDING, title="Protein folding with diffusion models",
               abstract="Diffusion models predict protein structures.",
               featured_on=dt.date(2025, 1, 5), upvotes=50)
    user = make_user(db)
    with db.begin():
        row, raw = sessions.create_api_token(db=db, user_id=user.id, name="mcp test")
    return Catalog(token=raw, token_id=row.id, user_id=user.id)


def revoke(db: Session, catalog: Catalog) -> None:
    """Revoke the member's token as /account does (after ending whatever the test's session read)."""
    db.rollback()
    with db.begin():
        sessions.revoke_api_token(db=db, user_id=catalog.user_id, token_id=catalog.token_id)


def data(result: CallToolResult) -> Any:
    """A tool's structured answer, checked against the JSON text the model reads."""
    assert not result.is_error, result.content
    text = result.content[0]
    assert isinstance(text, TextContent)
    assert result.structured_content is not None
    if set(result.structured_content) == {"result"}:  # a plain string (get_paper's Markdown)
        assert result.structured_content["result"] == text.text
        return text.text
    assert json.loads(text.text) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    text = result.content[0]
    assert isinstance(text, TextContent)
    return text.text


def ids(answer: dict[str, Any]) -> list[str]:
    return [paper["id"] for paper in answer["papers"]]


async def check_public_tools(client: Client, *, base_url: str) -> str:
    """Lists the tools and calls each public one; returns get_paper's Markdown for the caller to compare."""
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    assert listed["search_papers"].input_schema["properties"]["limit"]["maximum"] == 50
    assert listed["get_paper"].annotations is not None and listed["get_paper"].annotations.read_only_hint

    found = data(await client.call_tool("search_papers", {"query": "sparse attention long contexts"}))
    assert {SPARSE, KERNELS} <= set(ids(found)) and FOLDING not in ids(found)
    assert found["total"] >= 2 and found["page"] == 1
    first = found["papers"][ids(found).index(SPARSE)]
    assert first["url"] == f"{base_url}/papers/{SPARSE}"
    assert first["authors"] == ["Ada Lovelace", "Alan Turing"] and first["upvotes"] == 30
    assert first["code"] == "https://github.com/example/sparse" and first["featured_on"] == "2025-01-06"
    by_id = data(await client.call_tool("search_papers", {"query": f"arXiv:{FOLDING}v2", "limit": 1}))
    assert ids(by_id) == [FOLDING]
    on_day = data(await client.call_tool("search_papers", {"query": "", "featured_from": "2025-01-05",
                                                           "featured_to": "2025-01-05"}))
    assert ids(on_day) == [FOLDING]

    markdown = data(await client.call_tool("get_paper", {"paper_id": f"https://arxiv.org/abs/{SPARSE}v1"}))
    assert markdown.startswith("# Sparse attention for long-context transformers\n")
    assert "$O(n \\log n)$" in markdown and "**Authors:** Ada Lovelace, Alan Turing" in markdown
    assert f"Paper page: {base_url}/papers/{SPARSE}" in markdown

    newest = data(await client.call_tool("list_daily_papers", {}))
    assert newest["period"] == "2025-01-06" and ids(newest) == [SPARSE, KERNELS]
    day = data(await client.call_tool("list_daily_papers", {"period": "2025-01-05"}))
    assert day["period"] == "2025-01-05" and ids(day) == [FOLDING]
    month = data(await client.call_tool("list_daily_papers", {"period": "2025-01", "limit": 2, "page": 2}))
    assert month["period"] == "2025-01" and ids(month) == [FOLDING]
    week = data(await client.call_tool("list_daily_papers", {"period": "2025-W02"}))
    assert ids(week) == [SPARSE, KERNELS]

    similar = data(await client.call_tool("similar_papers", {"paper_id": SPARSE, "limit": 5}))
    assert ids(similar)[0] == KERNELS and SPARSE not in ids(similar)

    hot = data(await client.call_tool("trending", {"limit": 3}))
    assert sorted(ids(hot)) == sorted([SPARSE, KERNELS, FOLDING]) and hot["total"] == 3
    scores = [paper["score"] for paper in hot["papers"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0

    missing = await client.call_tool("get_paper", {"paper_id": "2501.99999"})
    assert "no paper '2501.99999'" in error_text(missing)
    return markdown


def saved(db: Session, catalog: Catalog) -> dict[str, list[str]]:
    """The member's collections, by name, with the keys of their papers (read afresh)."""
    db.rollback()
    return {info.name: sorted(card.key for card in collections.collection_view(
        db=db, collection_id=info.id, viewer_id=catalog.user_id).cards)
        for info in collections.collections_of(db=db, user_id=catalog.user_id)}


async def check_personal_tools(client: Client, *, base_url: str) -> None:
    """The member's tools with a valid token: For you before and after saving; save twice (no
    change), to a named collection."""
    cold = data(await client.call_tool("for_you", {}))
    assert cold["day"] == "2025-01-06" and cold["cold_start"] is True and cold["kept"] == 0
    assert ids(cold) == [FOLDING, SPARSE, KERNELS]  # nothing kept: the popular papers, most upvoted first
    assert all(paper["reason"] for paper in cold["papers"])
    first = data(await client.call_tool("save_paper", {"paper_id": SPARSE}))
    assert first == {"id": SPARSE, "saved": True, "read": False, "collection": library.DEFAULT_COLLECTION,
                     "library_url": f"{base_url}/library"}
    assert data(await client.call_tool("save_paper", {"paper_id": SPARSE})) == first
    named = data(await client.call_tool("save_paper", {"paper_id": f"https://huggingface.co/papers/{FOLDING}",
                                                       "collection": "  Biology "}))
    assert named["id"] == FOLDING and named["collection"] == "Biology"
    assert "no paper '2501.99999'" in error_text(await client.call_tool("save_paper", {"paper_id": "2501.99999"}))
    warm = data(await client.call_tool("for_you", {"day": "2025-01-06", "limit": 10}))
    assert warm["cold_start"] is False and warm["kept"] == 2 and ids(warm) == [KERNELS]  # kept papers leave it


async def check_refused(client: Client, *, says: str) -> None:
    """Every member's tool refuses with the UNAUTHORIZED error; the public tools still answer."""
    for tool, arguments in (("save_paper", {"paper_id": KERNELS}), ("for_you", {})):
        with pytest.raises(MCPError) as refused:
            await client.call_tool(tool, arguments)
        assert refused.value.code == UNAUTHORIZED and says in refused.value.error.message
        assert "/account" in refused.value.error.message
    assert ids(data(await client.call_tool("list_daily_papers", {}))) == [SPARSE, KERNELS]
