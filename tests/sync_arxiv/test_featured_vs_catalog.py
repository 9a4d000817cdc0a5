"""Featured versus catalog: papers synced from arXiv are in search, similar papers, topic
digests, author pages and feeds, but a day page lists featured papers only; "New on arXiv"
lets members submit them and curators feature them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.search.engine import SearchEngine
from dailypapers.services import topics
from dailypapers.services.submissions import today_utc
from dailypapers.store import DailyEntry, Paper, Role
from dailypapers.web.app import create_app
from tests.community.helpers import log_in, post_form
from tests.factories import make_paper, make_user
from tests.sources.arxiv_api import recorded_arxiv_api

DAY = dt.date(2026, 11, 22)


@pytest.fixture
def client(settings, database):
    return TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))


@pytest.fixture
def two_papers(db):
    featured = make_paper(db, arxiv_id="2611.20001", title="Diffusion transformers with sparse attention",
                          abstract="Sparse attention makes diffusion transformers fast.",
                          featured_on=DAY, categories=["cs.CV"])
    synced = make_paper(db, arxiv_id="2611.20002", title="Sparse attention kernels for long diffusion",
                        abstract="Kernels for sparse attention in diffusion models.",
                        authors=["Grace Hopper"], featured_on=None, upvotes=None,
                        published_at=dt.datetime(2026, 11, 21, 17), categories=["cs.LG", "cs.CV"])
    return featured, synced


def test_a_catalog_paper_is_everywhere_but_on_day_pages(client, db, settings, two_papers):
    featured, synced = two_papers
    day = client.get(f"/papers/date/{DAY}").text
    assert featured.title in day and synced.title not in day
    assert client.get("/api/daily_papers", params={"date": "2026-11-21"}).json() == []
    hits = [h["paper"]["id"] for h in client.get("/api/papers/search", params={"q": "sparse attention kernels"}).json()]
    assert synced.key in hits
    assert synced.title in client.get("/authors/Grace Hopper").text
    assert synced.title in client.get("/feeds/search.rss", params={"q": "sparse attention"}).text
    similar = [p["paper"]["id"] for p in client.get(f"/api/papers/{featured.key}/similar").json()]
    assert synced.key in similar
    engine = SearchEngine(settings)
    found = topics.new_matches(db=db, engine=engine, query="sparse attention", limit=10,
                               as_of=dt.datetime.combine(DAY, dt.time(12)))
    assert {c.key for c in found} == {featured.key, synced.key}


def test_new_on_arxiv_needs_an_account(client):
    response = client.get("/papers/new", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def _cards(html: str) -> list[str]:
    return re.findall(r'class="card-title" id="t-\d+"><a href="/papers/([^"]+)"', html)


def test_new_on_arxiv_lists_newest_first_by_category_with_pages(client, db, settings):
    base = dt.datetime(2026, 11, 1, 12)
    for n in range(35):
        make_paper(db, arxiv_id=f"2611.3{n:04d}", title=f"Learning paper {n}", featured_on=None,
                   published_at=base + dt.timedelta(hours=n), categories=["stat.ML", "cs.LG"])
    make_paper(db, arxiv_id="2611.39999", title="A vision paper", featured_on=None,
               published_at=base + dt.timedelta(days=20), categories=["cs.CV"])
    make_paper(db, key="seed-123456789abc", arxiv_id=None, title="No arXiv id", featured_on=None)
    member = make_user(db)
    db.commit()
    log_in(client, member.username)
    everything = _cards(client.get("/papers/new").text)
    assert everything[0] == "2611.39999" and "seed-123456789abc" not in everything
    first = client.get("/papers/new", params={"category": "cs.LG"}).text
    assert _cards(first) == [f"2611.3{n:04d}" for n in range(34, 4, -1)]
    assert 'href="/papers/new?page=2&amp;category=cs.LG"' in first
    second = client.get("/papers/new", params={"category": "cs.LG", "page": 2}).text
    assert _cards(second) == [f"2611.3{n:04d}" for n in range(4, -1, -1)] and 'rel="next"' not in second
    assert _cards(client.get("/papers/new", params={"category": "cs.CV"}).text) == ["2611.39999"]
    assert _cards(client.get("/papers/new", params={"category": "cs.L"}).text) == []  # no prefix match
    bad = client.get("/papers/new", params={"category": "cs.LG%' OR 1=1"})
    assert bad.status_code == 400 and "not an arXiv category" in bad.text


def test_a_member_submits_and_a_curator_features_from_new_on_arxiv(client, db, settings, database):
    synced = make_paper(db, arxiv_id="1605.08386", title="Heat-bath random walks with Markov bases",
                        featured_on=None, categories=["math.CO"], published_at=dt.datetime(2016, 5, 26))
    other = make_paper(db, arxiv_id="2611.40001", title="Another synced paper", featured_on=None,
                       categories=["math.CO"], published_at=dt.datetime(2026, 11, 20))
    member = make_user(db)
    curator = make_user(db, role=Role.CURATOR)
    db.commit()
    with recorded_arxiv_api() as api:
        app = create_app(settings.model_copy(update={"page_cache_seconds": 0, "arxiv_api_url": api.url,
                                                     "arxiv_min_interval": 0}), database)
        member_client = TestClient(app)
        log_in(member_client, member.username)
        page = member_client.get("/papers/new?category=math.CO").text
        assert 'action="/submit"' in page and 'value="1605.08386"' in page and "Feature on" not in page
        done = post_form(member_client, "/papers/new?category=math.CO", "/submit", {"ref": "1605.08386"})
        assert done.status_code == 303 and done.headers["location"] == f"/papers/date/{today_utc()}"
    db.expire_all()
    entry = db.scalars(select(DailyEntry).where(DailyEntry.paper_id == synced.id)).one()
    assert entry.submitter_user_id == member.id and entry.day == today_utc()
    log_in(client, curator.username)
    page = client.get("/papers/new?category=math.CO").text
    assert "Featured on" in page and f'action="/papers/{other.key}/feature"' in page
    featured = post_form(client, "/papers/new", f"/papers/{other.key}/feature", {"day": "2026-11-24"})
    assert featured.headers["location"] == "/papers/date/2026-11-24"
    assert other.title in client.get("/papers/date/2026-11-24").text
    assert db.scalar(select(Paper.key).join(DailyEntry).where(DailyEntry.day == dt.date(2026, 11, 24))) == other.key
