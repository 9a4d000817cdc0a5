"""Every listing exports as BibTeX, RIS and CSL-JSON: the papers of the page, in its order."""

import datetime as dt

import httpx
import orjson
import pytest
import rispy
from fastapi.testclient import TestClient

from dailypapers.services.imports import import_seeds
from dailypapers.store.base import utcnow
from dailypapers.web.app import create_app
from tests.conftest import SEEDS
from tests.factories import make_paper
from tests.services.test_citations import bibtex_names, parse_bibtex

TYPES = {"bib": "application/x-bibtex; charset=utf-8",
         "ris": "application/x-research-info-systems; charset=utf-8",
         "json": "application/vnd.citationstyles.csl+json; charset=utf-8"}
FILES = {"bib": "bib", "ris": "ris", "json": "csl.json"}


@pytest.fixture
def client(settings, database):
    return TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))


@pytest.fixture
def papers(db):
    day = dt.date(2025, 3, 10)
    return {
        "old": make_paper(db, title="Old day", featured_on=day - dt.timedelta(days=20), upvotes=500),
        "low": make_paper(db, title="Few votes on {the} day", featured_on=day, upvotes=2,
                          organization=("SakanaAI", "Sakana AI"), authors=["Ludwig van Beethoven"]),
        "high": make_paper(db, title="Many votes & 100% $\\alpha$", featured_on=day, upvotes=90,
                           authors=["Jürgen Müller", "Ada Lovelace"]),
    }


def listed(response) -> list[tuple[str, str, list[str], int]]:
    """(arXiv id, title, authors first name first, year) of each paper of an export."""
    kind = next(k for k, t in TYPES.items() if response.headers["content-type"] == t)
    if kind == "bib":
        entries = [(e, e.fields_dict) for e in parse_bibtex(response.text)]
        return [(f["eprint"].value if "eprint" in f else None, e["title"],
                 bibtex_names(e) if "author" in f else [], int(e["year"]) if "year" in f else None)
                for e, f in entries]
    if kind == "ris":
        return [(e["note"].removeprefix("arXiv:") if "note" in e else None, e["title"],
                 [" ".join(reversed(a.split(", "))) for a in e.get("authors", [])],
                 int(e["year"]) if "year" in e else None) for e in rispy.loads(response.text)]
    return [(i.get("number"), i["title"],
             [f"{a['given']} {a['family']}" if "given" in a else a["literal"] for a in i["author"]],
             i["issued"]["date-parts"][0][0] if "issued" in i else None) for i in orjson.loads(response.content)]


def expected(*papers) -> list[tuple[str, str, list[str], int]]:
    return [(p.arxiv_id, p.title, [link.author.name for link in p.author_links], p.published_at.year)
            for p in papers]


@pytest.mark.parametrize("suffix", ["bib", "ris", "json"])
def test_day_export_round_trips(client, papers, suffix):
    response = client.get(f"/exports/date/2025-03-10.{suffix}")
    assert response.status_code == 200
    assert response.headers["content-type"] == TYPES[suffix]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="Daily-Papers-2025-03-10.{FILES[suffix]}"')
    assert listed(response) == expected(papers["high"], papers["low"])


@pytest.mark.parametrize(("path", "names"), [
    ("/exports/week/2025-W11", ["high", "low"]),
    ("/exports/month/2025-03", ["high", "low"]),
    ("/exports/orgs/SakanaAI", ["low"]),
    ("/exports/authors/Ludwig van Beethoven", ["low"]),
    ("/exports/search", ["high"]),
])
def test_each_listing_exports_its_papers(client, papers, path, names):
    query = {"q": "many", "mode": "keyword"} if path == "/exports/search" else None
    for suffix in TYPES:
        response = client.get(f"{path}.{suffix}", params=query)
        assert response.status_code == 200, (path, suffix)
        assert listed(response) == expected(*(papers[n] for n in names))


def test_trending_and_single_paper(client, papers, db):
    today = make_paper(db, title="Featured today", featured_on=utcnow().date(), upvotes=3)
    # The week holds one paper, fewer than MIN_WINDOW_PAPERS, so trending reaches back to the
    # older days too; a fresh paper outscores months-old ones, which gravity orders by votes/age.
    assert listed(client.get("/exports/trending.ris")) == expected(today, papers["old"], papers["high"],
                                                                   papers["low"])
    assert listed(client.get(f"/exports/papers/{papers['low'].key}.json")) == expected(papers["low"])


def test_search_filters_reach_the_export(client, papers):
    response = client.get("/exports/search.json", params={"q": "votes", "org": "SakanaAI"})
    assert listed(response) == expected(papers["low"])
    assert client.get("/exports/search.json", params={"published_from": "2025-13-01"}).status_code == 422


@pytest.mark.parametrize("path", ["/exports/date/2025-03-10.pdf", "/exports/date/2025-02-30.bib",
                                  "/exports/orgs/nobody.ris", "/exports/authors/Nobody.bib",
                                  "/exports/papers/2501.99999.json"])
def test_unknown_listing_or_format_is_404(client, papers, path):
    assert client.get(path).status_code == 404


def test_listing_pages_link_their_exports(client, papers):
    pages = {"/papers/date/2025-03-10": "/exports/date/2025-03-10",
             "/papers/week/2025-W11": "/exports/week/2025-W11",
             "/papers/month/2025-03": "/exports/month/2025-03",
             "/orgs/SakanaAI": "/exports/orgs/SakanaAI",
             "/authors/Ada Lovelace": "/exports/authors/Ada%20Lovelace",
             f"/papers/{papers['high'].key}": f"/exports/papers/{papers['high'].key}",
             "/search?q=votes&org=SakanaAI": "/exports/search"}
    for page, export in pages.items():
        html = client.get(page).text
        for suffix in TYPES:
            assert f'href="{export}.{suffix}' in html, (page, suffix)
    assert 'href="/exports/search.bib?q=votes&amp;org=SakanaAI"' in client.get("/search?q=votes&org=SakanaAI").text


def test_real_server_exports_a_day(live_server, db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    page = httpx.get(f"{live_server}/", follow_redirects=True)  # the newest day with papers
    day = page.url.path.removeprefix("/papers/date/")
    assert f'href="/exports/date/{day}.bib"' in page.text
    titles = None
    for suffix in TYPES:
        response = httpx.get(f"{live_server}/exports/date/{day}.{suffix}")
        assert response.status_code == 200
        assert response.headers["content-type"] == TYPES[suffix]
        assert response.headers["content-disposition"].endswith(f'{day}.{FILES[suffix]}"')
        papers = listed(response)
        assert titles is None or papers == titles  # every format: the same ids, titles, authors, years
        titles = papers
    assert titles and page.text.count('class="card"') == len(titles)
