"""Search over HTTP against a real server process (the module's seeds + HF catalog)."""

from __future__ import annotations

import feedparser
import httpx
import pytest
from huggingface_hub import HfApi

from tests.server import running_server

HOSTILE = [
    "", " ", '"', '""', '"unbalanced phrase', "'single quote", "a AND b", "OR", "AND AND OR", "NOT",
    "attention NEAR gate", "NEAR/3", "*", "atten*", "-", "--", "-attention", "- -x", "(((", ")))",
    "(attention OR (gate", "[]{}<>", "title:attention", "abstract:(x", "^2", "~", "attention~2",
    "\\", "\\\\\"", "%", "%00", "\x00", "\u202e\u0645", "🤖🧠 attention 🚀", "注意力机制", "ñandú über",
    "<script>alert(1)</script>", "' OR 1=1 --", "'; DROP TABLE papers; --", "$x^2$ + \\frac{a}{b}",
    "a" * 300, "attention " * 1250, "x" * 10_000, "2312.17276" * 20, "https://arxiv.org/abs/",
    "arxiv.org/abs/9999.99999v99", "?q=1&sort=bogus", "\t\n\r", "+attention +gate",
]


@pytest.fixture(scope="module")
def server(catalog):
    with running_server(catalog.settings) as url:
        yield url


def test_there_are_at_least_thirty_hostile_queries():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_any_text_is_a_valid_query(server, query):
    for mode in ("keyword", "hybrid"):
        response = httpx.get(f"{server}/api/papers/search", params={"q": query, "mode": mode, "limit": 5},
                             timeout=60)
        assert response.status_code == 200 or (400 <= response.status_code < 500 and response.json()["error"])
        if response.status_code == 200:
            assert isinstance(response.json(), list)
            assert all("<script>" not in item["highlightedTitle"] + item["highlightedSummary"]
                       for item in response.json())
    page = httpx.get(f"{server}/search", params={"q": query}, timeout=60)
    assert page.status_code == 200 or 400 <= page.status_code < 500
    assert "<script>alert" not in page.text


def test_over_long_query_parameters_are_refused_with_a_message(server):
    response = httpx.get(f"{server}/api/papers/search", params={"q": "x" * 10_001}, timeout=30)
    assert response.status_code == 422 and "q" in response.json()["error"]


def test_api_search_speaks_the_hf_dialect_with_highlights(server):
    items = httpx.get(f"{server}/api/papers/search",
                      params={"q": "sigmoid gate after attention output", "limit": 3}, timeout=60).json()
    assert len(items) == 3
    top = items[0]
    assert top["title"].startswith("Gated Attention for Large Language Models")
    assert top["paper"]["summary"] == top["summary"]
    assert "<mark>" in top["highlightedTitle"] and "<mark>sigmoid gate</mark>" in top["highlightedSummary"]


def test_huggingface_hub_client_lists_papers_from_our_search(server):
    api = HfApi(endpoint=server)
    found = list(api.list_papers(query="sequence parallelism for linear attention", limit=5))
    assert found[0].title.startswith("LASP-2: Rethinking Sequence Parallelism")
    pinned = list(api.list_papers(query="https://arxiv.org/abs/2312.17276"))
    assert [p.id for p in pinned] == ["2312.17276"]
    assert pinned[0].highlightedTitle  # extra fields reach the client's PaperInfo


def test_similar_api_and_paper_page(server):
    similar = httpx.get(f"{server}/api/papers/2312.17276/similar", params={"limit": 4}, timeout=60)
    assert similar.status_code == 200 and len(similar.json()) == 4
    assert "2312.17276" not in [item["paper"]["id"] for item in similar.json()]
    assert httpx.get(f"{server}/api/papers/0000.00000/similar", timeout=30).status_code == 404
    page = httpx.get(f"{server}/papers/2312.17276", timeout=60)
    assert page.status_code == 200 and "Similar papers" in page.text
    first = similar.json()[0]["paper"]["id"]
    assert f'href="/papers/{first}"' in page.text


def test_search_page_and_its_feeds(server):
    page = httpx.get(f"{server}/search", params={"q": "linear attention", "sort": "newest"}, timeout=60)
    assert page.status_code == 200
    assert "<mark>Linear Attention</mark>" in page.text or "<mark>linear attention</mark>" in page.text
    assert 'href="/feeds/search.rss?q=linear+attention"' in page.text
    feed = httpx.get(f"{server}/feeds/search.atom", params={"q": "linear attention"}, timeout=60)
    parsed = feedparser.parse(feed.content)
    assert feed.status_code == 200 and not parsed.bozo
    assert len(parsed.entries) == 50
    assert any("Linear Attention" in entry.title for entry in parsed.entries)
    assert httpx.get(f"{server}/feeds/search.txt", params={"q": "x"}, timeout=30).status_code == 404
