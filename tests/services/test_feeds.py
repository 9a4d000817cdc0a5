import datetime as dt

import feedparser
import pytest

from dailypapers.services.feeds import FeedInfo, build_feed
from dailypapers.services.papers import AuthorRef, OrgRef, PaperCard


def _card(n: int, **kw) -> PaperCard:
    values = {
        "id": n, "key": f"2501.{n:05d}", "arxiv_id": f"2501.{n:05d}", "title": f"Paper {n}",
        "abstract": f"Abstract {n}", "authors": (AuthorRef(1, "Ada Lovelace"), AuthorRef(2, "Alan Turing")),
        "num_authors": None, "published_at": dt.datetime(2025, 1, 1), "upvotes": n,
        "num_comments": 0, "imported_comments": 0,
        "github_repo": None, "project_page": None, "featured_on": dt.date(2025, 1, 2), "submitted_at": None,
        "submitted_by": None, "organization": None}
    values.update(kw)
    return PaperCard(**values)


INFO = FeedInfo(title="Daily Papers: test", description="Test feed",
                page_url="http://example.test/papers/date/2025-01-02",
                self_url="http://example.test/feeds/date/2025-01-02.rss")


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feed_parses_cleanly_and_keeps_the_order(fmt):
    cards = [_card(3), _card(1), _card(2, organization=OrgRef(5, "SakanaAI", "Sakana AI"))]
    parsed = feedparser.parse(build_feed(info=INFO, cards=cards, fmt=fmt, base_url="http://example.test/"))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if fmt == "rss" else "atom10")
    assert [e.title for e in parsed.entries] == ["Paper 3", "Paper 1", "Paper 2"]
    assert parsed.entries[0].link == "http://example.test/papers/2501.00003"
    assert parsed.entries[0].summary == "Abstract 3"
    assert "Ada Lovelace" in parsed.entries[0].author
    assert parsed.entries[0].published_parsed[:3] == (2025, 1, 2)  # featured day
    assert parsed.feed.title == "Daily Papers: test"


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_markup_and_control_characters_are_escaped_not_broken(fmt):
    evil = _card(1, title="<script>alert('x')</script> & <b>bold</b>",
                 abstract="a\x0bb\x00c <img src=x onerror=alert(1)> $\\pi$")
    raw = build_feed(info=INFO, cards=[evil], fmt=fmt, base_url="http://example.test")
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0
    assert parsed.entries[0].title == "<script>alert('x')</script> & <b>bold</b>"
    # Readers get the abstract as text: the markup arrives escaped, control characters dropped.
    summary = parsed.entries[0].summary
    assert "abc" in summary and "onerror" in summary
    assert "<img" not in summary or (fmt == "atom" and parsed.entries[0].summary_detail.type == "text/plain")


def test_same_cards_same_bytes():
    cards = [_card(1), _card(2)]
    one = build_feed(info=INFO, cards=cards, fmt="atom", base_url="http://example.test")
    two = build_feed(info=INFO, cards=cards, fmt="atom", base_url="http://example.test")
    assert one == two


def test_empty_feed_is_valid():
    for fmt in ("rss", "atom"):
        assert feedparser.parse(build_feed(info=INFO, cards=[], fmt=fmt, base_url="http://e.test")).bozo == 0
