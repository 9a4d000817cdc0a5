"""Probes of the web layer that need no running server: absolute URLs never come from the Host
header, conditional GETs on feeds, HSTS. (docs/reliability.md, "Probes".)"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from fastapi.testclient import TestClient

from dailypapers.web.app import create_app
from tests.factories import make_paper

BASE = "https://papers.example.org"
EVIL = "evil.example"


def _client(settings, database, **overrides) -> TestClient:
    overrides = {"base_url": BASE, **overrides}
    return TestClient(create_app(settings.model_copy(update=overrides), database),
                      base_url="http://testserver")


@pytest.fixture
def three_papers(db):
    day = dt.date(2025, 3, 10)
    return [make_paper(db, title=f"Paper {n} & <co>", featured_on=day,
                       published_at=dt.datetime(2025, 3, n + 1)) for n in range(3)]


@pytest.mark.parametrize("cache_seconds", [0, 5])
def test_the_api_next_page_link_comes_from_the_base_url_not_the_host_header(
        settings, database, three_papers, cache_seconds):
    client = _client(settings, database, page_cache_seconds=cache_seconds)
    # The forged Host goes first: with the page cache on, its answer is what others would get.
    forged = client.get("/api/papers?limit=1", headers={"host": EVIL})
    honest = client.get("/api/papers?limit=1")
    for response in (forged, honest):
        assert response.status_code == 200
        link = response.headers["link"]
        assert EVIL not in link and "testserver" not in link
        assert re.fullmatch(rf'<{re.escape(BASE)}/api/papers\?cursor=[\w-]+&limit=1>; rel="next"', link)
    # The link works: following it (path and query) gives the next paper.
    path = forged.headers["link"][1:].split(">")[0].removeprefix(BASE)
    nxt = client.get(path)
    assert nxt.status_code == 200 and nxt.json()[0]["id"] != forged.json()[0]["id"]


def test_feeds_and_markdown_links_ignore_the_host_header(settings, database, three_papers):
    client = _client(settings, database, page_cache_seconds=0)
    paper = three_papers[0]
    for path in ("/feeds/latest.rss", "/feeds/latest.atom", "/feeds/date/2025-03-10.rss",
                 f"/papers/{paper.key}.md", "/topics/feed.atom?q=paper"):
        response = client.get(path, headers={"host": EVIL})
        assert response.status_code == 200, path
        assert EVIL not in response.text and BASE in response.text, path


def test_a_feed_sends_last_modified_and_an_etag_and_honours_weak_and_star_validators(
        settings, database, three_papers):
    # identity: the route's own strong ETag; gzip: the compressed copy's weak one (web/compression.py).
    for cache_seconds, coding in itertools.product((0, 5), ("identity", "gzip")):
        # answered by the route, and by the page cache
        client = _client(settings, database, page_cache_seconds=cache_seconds)
        client.headers["accept-encoding"] = coding
        for path in ("/feeds/date/2025-03-10.rss", "/feeds/latest.atom", "/topics/feed.atom?q=paper"):
            first = client.get(path)
            assert first.status_code == 200, path
            etag = first.headers["etag"]
            strong = etag.removeprefix("W/")
            assert strong.startswith('"'), path
            assert etag == strong if coding == "identity" else etag == f"W/{strong}", (path, coding)
            modified = first.headers["last-modified"]
            assert modified.endswith(" GMT"), path
            for validator in (strong, f"W/{strong}", f'"nope", W/{strong}', "*"):
                again = client.get(path, headers={"if-none-match": validator})
                assert again.status_code == 304, (path, validator, cache_seconds, coding)
                assert again.content == b""
                assert again.headers["etag"] == etag
            assert client.get(path, headers={"if-none-match": 'W/"nope"'}).status_code == 200
            assert client.get(path, headers={"if-modified-since": modified}).status_code == 304
            earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
            assert client.get(path, headers={"if-modified-since": earlier}).status_code == 200
            # If-None-Match wins over If-Modified-Since when both are sent.
            both = {"if-none-match": '"nope"', "if-modified-since": modified}
            assert client.get(path, headers=both).status_code == 200


def test_last_modified_is_the_newest_item_of_the_feed(settings, database, three_papers):
    client = _client(settings, database, page_cache_seconds=0)
    response = client.get("/feeds/date/2025-03-10.atom")
    updated = re.search(r"<updated>([^<]+)</updated>", response.text).group(1)
    sent = dt.datetime.strptime(response.headers["last-modified"], "%a, %d %b %Y %H:%M:%S GMT")
    assert sent == dt.datetime.fromisoformat(updated).replace(tzinfo=None)


def test_hsts_only_when_the_base_url_is_https(settings, database):
    secure = _client(settings, database).get("/healthz")
    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    plain = _client(settings, database, base_url="http://127.0.0.1:8000").get("/healthz")
    assert "strict-transport-security" not in plain.headers


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feed_titles_reach_the_reader_escaped_once(settings, database, db, fmt):
    import feedparser  # noqa: PLC0415

    # (No known HTML tag in it: RSS has no type for titles and feedparser, like many readers,
    # takes a title with <b> for HTML; a plain title must come back exactly as stored.)
    title = "Q&A: it's \"bold\" & x < y > z"
    make_paper(db, title=title, featured_on=dt.date(2025, 3, 10))
    client = _client(settings, database, page_cache_seconds=0)
    query = "it's \"q&a\""
    for path, params in ((f"/feeds/date/2025-03-10.{fmt}", None), (f"/feeds/search.{fmt}", {"q": query})):
        response = client.get(path, params=params)
        assert response.status_code == 200, path
        assert b"&amp;amp;" not in response.content and b"\\'" not in response.content, path
        feed = feedparser.parse(response.content)
        assert feed.bozo == 0
        if params:
            assert feed.feed.title == f"{settings.site_name}: search “{query}”"
        else:
            assert [e.title for e in feed.entries] == [title]
