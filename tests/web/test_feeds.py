"""Every feed parses in feedparser with bozo == 0 and lists the right papers in the right order."""

import datetime as dt

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.web.app import create_app
from tests.factories import make_paper


@pytest.fixture
def client(settings, database):
    return TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))


@pytest.fixture
def papers(db):
    day = dt.date(2025, 3, 10)
    return {
        "old": make_paper(db, title="Old day", featured_on=day - dt.timedelta(days=20), upvotes=500),
        "mid": make_paper(db, title="Middle day", featured_on=day - dt.timedelta(days=3), upvotes=4,
                          organization=("SakanaAI", "Sakana AI")),
        "low": make_paper(db, title="Newest day, few votes", featured_on=day, upvotes=2,
                          organization=("SakanaAI", "Sakana AI")),
        "high": make_paper(db, title="Newest day, many votes", featured_on=day, upvotes=90,
                           abstract="Uses <script>x</script> & $\\alpha$."),
    }


def _parse(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    kind = "rss+xml" if path.endswith(".rss") else "atom+xml"
    assert response.headers["content-type"] == f"application/{kind}; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
    return parsed


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_day_feed(client, papers, fmt):
    feed = _parse(client, f"/feeds/date/2025-03-10.{fmt}")
    assert [e.title for e in feed.entries] == ["Newest day, many votes", "Newest day, few votes"]
    assert feed.entries[0].link == f"{client.app.state.settings.base_url}/papers/{papers['high'].key}"
    # The abstract reaches the reader as text: escaped HTML in RSS, a type="text" summary in Atom.
    summary = feed.entries[0].summary
    if fmt == "rss":
        assert "&lt;script&gt;x&lt;/script&gt; &amp; $\\alpha$." in summary
    else:
        assert summary == "Uses <script>x</script> & $\\alpha$."
        assert feed.entries[0].summary_detail.type == "text/plain"


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_latest_feed_takes_the_last_three_days_newest_first(client, papers, fmt):
    feed = _parse(client, f"/feeds/latest.{fmt}")
    assert [e.title for e in feed.entries] == [
        "Newest day, many votes", "Newest day, few votes", "Middle day", "Old day"]
    # Only three days have papers; with a fourth, newer one the oldest would drop out.


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_trending_feed_follows_the_trending_order(client, papers, fmt):
    feed = _parse(client, f"/feeds/trending.{fmt}")
    # The 7 days before the clock hold three papers, fewer than MIN_WINDOW_PAPERS, so the window
    # reaches back to "Old day" too. Scores at the clock (end of Mar 10): 90 / 26^1.8 = 0.256,
    # 500 / 530^1.8 = 0.0062, 2 / 26^1.8 = 0.0057, 4 / 98^1.8 = 0.0010.
    assert [e.title for e in feed.entries] == [
        "Newest day, many votes", "Old day", "Newest day, few votes", "Middle day"]


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_org_feed(client, papers, fmt):
    feed = _parse(client, f"/feeds/orgs/SakanaAI.{fmt}")
    assert [e.title for e in feed.entries] == ["Newest day, few votes", "Middle day"]
    assert client.get(f"/feeds/orgs/Nobody.{fmt}").status_code == 404


def test_pages_link_their_feeds(client, papers):
    day = client.get("/papers/date/2025-03-10").text
    assert '<link rel="alternate" type="application/rss+xml" href="/feeds/date/2025-03-10.rss"' in day
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/date/2025-03-10.atom"' in day
    assert 'href="/feeds/latest.rss"' in day
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/trending.atom"' in \
        client.get("/papers/trending").text
    assert 'href="/feeds/orgs/SakanaAI.atom"' in client.get("/orgs/SakanaAI").text


def test_bad_feed_addresses(client, papers):
    assert client.get("/feeds/latest.json").status_code == 404
    assert client.get("/feeds/date/2025-02-30.rss").status_code == 404
