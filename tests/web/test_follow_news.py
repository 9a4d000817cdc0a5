"""A followed saved search, author or organization brings its new papers to For you and to the
private feed, each with the reason it is there (``services/follow_news.py``)."""

from __future__ import annotations

import datetime as dt
import re

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.web.app import create_app
from tests.community.helpers import csrf_from, sign_up
from tests.factories import make_paper

DAY = dt.date(2025, 1, 2)


@pytest.fixture
def member(settings, database):
    app = create_app(settings.model_copy(update={"base_url": "http://papers.test"}), database)
    with TestClient(app) as client:
        sign_up(client, "reader")
        yield client


def test_a_followed_search_reaches_for_you_and_the_private_feed_with_its_reason(member, db):
    match = make_paper(db, title="Incremental compilers for tensor programs", authors=["Kim Ode"],
                       abstract="Compilers that reuse work between tensor program versions.")
    by_author = make_paper(db, title="Notes on sorting networks", authors=["Grace Hopper"],
                           abstract="Sorting networks of small depth.")
    old = make_paper(db, title="Compilers of the nineties", authors=["Kim Ode"], featured_on=None,
                     published_at=dt.datetime(2024, 6, 1), abstract="Compilers, long ago.")
    make_paper(db, title="Gardening in spring", authors=["Ann Other"], abstract="Tulips and soil.")
    token = csrf_from(member.get("/account").text)
    page = member.get("/search?q=compilers").text
    assert 'name="kind" value="search"' in page  # the search page offers to follow itself
    member.post("/follow", data={"csrf_token": token, "kind": "search", "target": "q=compilers"})
    member.post("/follow", data={"csrf_token": token, "kind": "author", "target": "Grace Hopper"})

    for_you = member.get(f"/for-you?day={DAY.isoformat()}").text
    assert match.title in for_you and "Matches your search “compilers”" in for_you
    assert by_author.title in for_you and "New from Grace Hopper, whom you follow" in for_you
    # "New" in For you is its recent catalog: the 2024 paper matches the words but is not new.
    assert old.title not in for_you

    account = member.post("/account/feed", data={"csrf_token": token}).text
    url = re.search(r'href="http://papers\.test(/feeds/me/[0-9a-f]{64}\.atom)"', account).group(1)
    feed = feedparser.parse(TestClient(member.app).get(url).content)
    assert not feed.bozo
    entries = {e.title: e.summary for e in feed.entries}
    assert entries[match.title].startswith("Matches your search “compilers”. Compilers that reuse")
    assert entries[by_author.title].startswith("New from Grace Hopper, whom you follow. ")
    assert "Gardening in spring" not in entries
