"""HTML pages: periods, paper, organization, author, trending; escaping and security headers."""

import datetime as dt
import html
import re

import pytest
from fastapi.testclient import TestClient

from dailypapers.services import trending
from dailypapers.web.app import create_app
from tests.factories import make_paper


@pytest.fixture
def client(settings, database):
    # No page cache: these tests change the data between requests (test_caching covers the cache).
    return TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))


def _links(page: str, rel: str) -> list[str]:
    return re.findall(rf'<a [^>]*rel="{rel}" href="([^"]+)"', page)


def test_home_redirects_to_the_newest_day_and_empty_site_renders(client, db):
    empty = client.get("/")
    assert empty.status_code == 200 and "No papers yet" in empty.text
    make_paper(db, featured_on=dt.date(2025, 1, 6))
    make_paper(db, featured_on=dt.date(2025, 1, 9))
    assert client.get("/", follow_redirects=False).headers["location"] == "/papers/date/2025-01-09"


def test_day_week_month_pages_link_neighbours_with_papers(client, db):
    low = make_paper(db, title="Low votes", featured_on=dt.date(2025, 1, 9), upvotes=1)
    high = make_paper(db, title="High votes", featured_on=dt.date(2025, 1, 9), upvotes=50)
    make_paper(db, featured_on=dt.date(2025, 1, 2))
    make_paper(db, featured_on=dt.date(2025, 3, 20))
    day = client.get("/papers/date/2025-01-09").text
    assert day.index("High votes") < day.index("Low votes")
    assert _links(day, "prev") == ["/papers/date/2025-01-02"]
    assert _links(day, "next") == ["/papers/date/2025-03-20"]
    assert 'href="/papers/week/2025-W02"' in day and 'href="/papers/month/2025-01"' in day
    week = client.get("/papers/week/2025-W02").text
    assert _links(week, "prev") == ["/papers/week/2025-W01"]
    assert _links(week, "next") == ["/papers/week/2025-W12"]
    assert "Previous week" in week and "3 papers" not in week and "2 papers" in week
    month = client.get("/papers/month/2025-01").text
    assert _links(month, "prev") == [] and _links(month, "next") == ["/papers/month/2025-03"]
    assert month.index(high.title) < month.index(low.title)


@pytest.mark.parametrize("path", ["/papers/date/2025-13-01", "/papers/week/2025-W60",
                                  "/papers/month/nope", "/papers/2501.99999", "/orgs/nobody",
                                  "/authors/Nobody%20At%20All", "/feeds/date/2025-01-01.xml"])
def test_unknown_or_malformed_pages_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Get trending papers in your email inbox!" in response.text


def test_bad_page_number_is_422_with_a_message(client):
    response = client.get("/papers/date/2025-01-01?page=0")
    assert response.status_code == 422 and "page" in response.text


def test_paper_page_shows_everything_about_the_paper(client, db):
    paper = make_paper(
        db, arxiv_id="2312.17276", title="PanGu-$π$: Enhancing Language Model Architectures",
        abstract="We study $\\mathcal{O}(n^2)$ cost.", authors=["Yunhe Wang", "Hanting Chen", "Ying Nie"],
        published_at=dt.datetime(2023, 12, 27), featured_on=dt.date(2024, 1, 2), upvotes=17,
        organization=("huawei-noah", "HUAWEI Noah's Ark Lab"), submitted_by="AK",
        github_repo="https://github.com/huawei-noah/pangu", project_page="https://example.org/pangu",
        num_comments=4)
    page = client.get("/papers/2312.17276").text
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert 'PanGu-<span class="math">π</span>' in page  # LaTeX shown readably, no $ signs
    assert "O(n 2 ) cost" in text and "<sup>2</sup>" in page
    for name in ("Yunhe Wang", "Hanting Chen", "Ying Nie"):
        assert f'href="/authors/{name.replace(" ", "%20")}"' in page
    assert 'href="https://arxiv.org/abs/2312.17276"' in page
    assert 'href="https://arxiv.org/pdf/2312.17276"' in page
    assert 'href="https://github.com/huawei-noah/pangu"' in page
    assert 'href="https://example.org/pangu"' in page
    assert "HUAWEI Noah's Ark Lab" in text and 'href="/orgs/huawei-noah"' in page
    assert "Featured on Jan 2, 2024" in text and 'href="/papers/date/2024-01-02"' in page
    assert "Submitted by AK" in text and "Published on Dec 27, 2023" in text
    assert 'aria-label="17 upvotes"' in page and re.search(r"Comments \(\s*0\s*\)", text)
    assert "4 comments on the source site" in text  # imported as a number, not as text
    assert "<title>PanGu-π: Enhancing Language Model Architectures — " in page
    assert client.get("/papers/2312.17276v2", follow_redirects=False).headers["location"] == "/papers/2312.17276"
    assert paper.key == "2312.17276"


def test_paper_markdown_keeps_latex_and_links(client, db):
    make_paper(db, arxiv_id="2312.17276", title="PanGu-$π$", authors=["Yunhe Wang"],
               github_repo="https://github.com/x/y")
    response = client.get("/papers/2312.17276.md")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.text.startswith("# PanGu-$π$\n")
    assert "[PDF](https://arxiv.org/pdf/2312.17276)" in response.text
    assert "[Code](https://github.com/x/y)" in response.text
    assert client.get("/papers/2312.99999.md").status_code == 404


def test_org_and_author_pages_list_newest_first(client, db):
    old = make_paper(db, title="Old one", featured_on=dt.date(2024, 5, 1), authors=["Ann Lee"],
                     published_at=dt.datetime(2024, 4, 1), organization=("SakanaAI", "Sakana AI"))
    new = make_paper(db, title="New one", featured_on=dt.date(2025, 5, 1), authors=["Ann Lee", "Bo Li"],
                     published_at=dt.datetime(2025, 4, 1), organization=("SakanaAI", "Sakana AI"))
    make_paper(db, title="Someone else's", authors=["Bo Li"], organization=("other", "Other"))
    org = client.get("/orgs/SakanaAI").text
    assert org.index("New one") < org.index("Old one") and "Someone else" not in org
    assert "2 papers featured" in org and 'href="/feeds/orgs/SakanaAI.rss"' in org
    author = client.get("/authors/Ann Lee").text
    assert author.index("New one") < author.index("Old one") and "Someone else" not in author
    assert new.id != old.id


def test_abstract_markup_is_shown_as_text(client, db):
    make_paper(db, arxiv_id="2501.66666", featured_on=dt.date(2025, 1, 6),
               title='<img src=x onerror="alert(1)">Title',
               abstract="<script>alert('pwned')</script> and <b>bold</b>",
               authors=["<i>Evil</i> Author"], organization=("evil", "<svg onload=alert(1)>"))
    pages = {path: client.get(path).text for path in (
        "/papers/date/2025-01-06", "/papers/2501.66666", "/orgs/evil", "/authors/<i>Evil</i> Author")}
    for path, page in pages.items():
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "<svg onload" not in page and "<i>Evil</i>" not in page, path
    for path in ("/papers/date/2025-01-06", "/papers/2501.66666"):
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in pages[path]
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Title" in pages[path]
    assert "&lt;svg onload=alert(1)&gt;" in pages["/orgs/evil"]
    assert "&lt;i&gt;Evil&lt;/i&gt; Author" in pages["/authors/<i>Evil</i> Author"]


def test_security_headers_and_no_inline_script_or_handlers(client, db):
    make_paper(db, arxiv_id="2501.00001", featured_on=dt.date(2025, 1, 6))
    for path in ("/papers/date/2025-01-06", "/papers/2501.00001", "/papers/trending",
                 "/papers/trending/about", "/papers/week/2025-W02", "/nope", "/docs"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), path  # no inline script
        assert not re.search(r"\son[a-z]+\s*=", response.text), path  # no inline handlers


def test_trending_page_ranks_by_the_formula(client, db):
    day = dt.date(2025, 3, 10)
    older = make_paper(db, title="Older but popular", featured_on=day - dt.timedelta(days=1), upvotes=300)
    newer = make_paper(db, title="Newer", featured_on=day, upvotes=40)
    page = client.get("/papers/trending").text
    assert page.index(older.title) < page.index(newer.title)
    assert 'href="/papers/trending/about"' in page and 'href="/feeds/trending.rss"' in page
    about = client.get("/papers/trending/about").text
    assert f"upvotes / (age_hours + {trending.AGE_OFFSET_HOURS}) ^ {trending.GRAVITY}" in about
    assert f"WINDOW_DAYS = {trending.WINDOW_DAYS}" in about and "Hacker News" in about
    assert f"{trending.trending_score(upvotes=10, age_hours=24):.4f}" in about


def test_period_json_twin_matches_the_page(client, db):
    a = make_paper(db, featured_on=dt.date(2025, 1, 6), upvotes=3)
    b = make_paper(db, featured_on=dt.date(2025, 1, 6), upvotes=8)
    page = client.get("/papers/date/2025-01-06")
    assert '<link rel="alternate" type="application/json" href="/papers/date/2025-01-06.json"' in page.text
    assert '</papers/date/2025-01-06.json>; rel="alternate"; type="application/json"' in page.headers["link"]
    twin = client.get("/papers/date/2025-01-06.json")
    assert [item["paper"]["id"] for item in twin.json()] == [b.key, a.key]
    assert client.get("/papers/week/2025-W02.json").json()[0]["paper"]["id"] == b.key
    assert client.get("/papers/date/2025-02-30.json").status_code == 404


def test_go_to_day_form_redirects_without_script(client, db):
    make_paper(db, featured_on=dt.date(2025, 1, 9))
    page = client.get("/papers/date/2025-01-09").text
    assert '<form class="jump" action="/papers/date" method="get">' in page
    jump = client.get("/papers/date", params={"date": "2025-01-06"}, follow_redirects=False)
    assert jump.status_code == 303 and jump.headers["location"] == "/papers/date/2025-01-06"
    assert client.get("/papers/date", params={"date": "2025-02-30"}).status_code == 422
    assert client.get("/papers/date").status_code == 422


def test_serve_precompiles_templates_through_a_bytecode_cache(settings, database, db):
    """In production each ``serve`` worker compiles every template at startup into data_dir's
    bytecode cache; pages render the same as with templates compiled on first use."""
    from dailypapers.web.rendering import make_templates, precompile_templates

    make_paper(db, title="Cached bytecode", featured_on=dt.date(2025, 1, 9))
    db.commit()
    production = settings.model_copy(update={"environment": "production", "page_cache_seconds": 0})
    cache = settings.data_dir / "cache" / "templates"
    assert precompile_templates(make_templates(settings), settings) == 0  # tests: compiled on use
    assert not cache.exists()
    cached = TestClient(create_app(production, database))
    count = precompile_templates(cached.app.state.templates, production)
    assert len(list(cache.iterdir())) == count > 10
    again = TestClient(create_app(production, database))  # a second worker: reads the cache
    assert precompile_templates(again.app.state.templates, production) == count
    lazy = TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))
    pages = [c.get("/papers/date/2025-01-09") for c in (cached, again, lazy)]
    assert all(p.status_code == 200 for p in pages) and "Cached bytecode" in pages[0].text
    assert pages[0].text == pages[1].text == pages[2].text
