"""The JSON API speaks hf.co's daily-papers dialect (compared with real saved responses)."""

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from dailypapers.services.imports import import_hf_json
from dailypapers.web.app import create_app
from tests.conftest import HF_API
from tests.factories import make_paper

ISO_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


@pytest.fixture
def client(settings, database):
    return TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))


def _paths(value, prefix=""):
    """Every key path with its value type, lists flattened as ``[]``."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, f"{prefix}.{key}")
    elif isinstance(value, list):
        for child in value:
            yield from _paths(child, f"{prefix}[]")
    else:
        yield prefix, type(value).__name__


def test_daily_item_has_hf_field_names_and_nesting(client, db):
    real_file = next(p for p in HF_API if p.name == "daily_papers_2025-11-20.json")
    real = json.loads(real_file.read_text())
    import_hf_json(db=db, paths=[real_file])
    ours = client.get("/api/daily_papers", params={"date": "2025-11-20", "limit": 100}).json()
    assert len(ours) == len(real)
    real_by_id = {item["paper"]["id"]: item for item in real}
    hf_paths = {path for f in HF_API for item in json.loads(f.read_text()) for path in _paths(item)}
    for item in ours:
        theirs = real_by_id[item["paper"]["id"]]
        # Every field we send, at every depth, is one hf.co sends, with the same type.
        assert set(_paths(item)) <= hf_paths, set(_paths(item)) - hf_paths
        assert item["title"] == theirs["title"] and item["paper"]["title"] == theirs["paper"]["title"]
        assert item["paper"]["upvotes"] == theirs["paper"]["upvotes"]
        assert [a["name"] for a in item["paper"]["authors"]] == [a["name"] for a in theirs["paper"]["authors"]]
        assert item["paper"]["publishedAt"] == theirs["paper"]["publishedAt"]
        assert item["paper"]["submittedOnDailyAt"] == theirs["paper"]["submittedOnDailyAt"]
        assert item["numComments"] == theirs["numComments"]
        assert item["summary"] == theirs["summary"]
        if "organization" in theirs:
            org = item["organization"]
            assert (org["name"], org["fullname"]) == (theirs["organization"]["name"],
                                                      theirs["organization"]["fullname"])
        linked = [a["user"]["user"] for a in theirs["paper"]["authors"] if a.get("user")]
        for author in item["paper"]["authors"]:
            assert set(author) - {"user"} == {"_id", "name", "hidden"} and author["hidden"] is False
        assert [a["user"]["user"] for a in item["paper"]["authors"] if "user" in a] == linked
    upvotes = [item["paper"]["upvotes"] for item in ours]
    assert upvotes == sorted(upvotes, reverse=True)


def test_times_are_iso_8601_with_z(client, db):
    make_paper(db, arxiv_id="2501.00001", published_at=dt.datetime(2025, 1, 1, 12, 30, 5),
               featured_on=dt.date(2025, 1, 2), submitted_at=dt.datetime(2025, 1, 2, 0, 24, 18, 639000))
    item = client.get("/api/daily_papers").json()[0]
    assert item["paper"]["publishedAt"] == "2025-01-01T12:30:05.000Z"
    assert item["paper"]["submittedOnDailyAt"] == "2025-01-02T00:24:18.639Z"
    assert item["publishedAt"] == "2025-01-02T00:24:18.639Z"


def test_paper_endpoint_and_404(client, db):
    make_paper(db, arxiv_id="2501.00007", title="Seven", upvotes=7, github_repo="https://github.com/a/b",
               organization=("SakanaAI", "Sakana AI"))
    paper = client.get("/api/papers/2501.00007v2").json()
    assert (paper["id"], paper["title"], paper["upvotes"], paper["githubRepo"]) == (
        "2501.00007", "Seven", 7, "https://github.com/a/b")
    assert paper["organization"]["name"] == "SakanaAI"
    missing = client.get("/api/papers/2501.99999")
    assert missing.status_code == 404 and "not found" in missing.json()["error"]


@pytest.mark.parametrize(("params", "word"), [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "ten"}, "limit"),
    ({"p": -1}, "p"), ({"p": 10**30}, "p"), ({"date": "2025-02-30"}, "date"),
    ({"date": "yesterday"}, "date"), ({"week": "2025-W99"}, "week"), ({"month": "2025-13"}, "month"),
    ({"sort": "votes"}, "sort"), ({"date": "0"}, "date"), ({"date": "20250101"}, "date"),
    ({"submitter": "x" * 500}, "submitter"),
])
def test_invalid_parameters_are_422_with_a_message(client, params, word):
    response = client.get("/api/daily_papers", params=params)
    assert response.status_code == 422
    assert word in response.json()["error"]


def test_week_month_submitter_and_paging(client, db):
    a = make_paper(db, featured_on=dt.date(2025, 1, 6), upvotes=1, submitted_by="Ada")
    b = make_paper(db, featured_on=dt.date(2025, 1, 12), upvotes=2, submitted_by="Alan")
    c = make_paper(db, featured_on=dt.date(2025, 2, 3), upvotes=3, submitted_by="Ada")

    def ids(**params):
        return [i["paper"]["id"] for i in client.get("/api/daily_papers", params=params).json()]

    assert ids(week="2025-W02") == [b.key, a.key]
    assert ids(month="2025-02") == [c.key]
    assert ids(submitter="Ada") == [c.key, a.key]
    assert ids(limit=1, p=1) == [b.key]
    assert ids(date="2024-01-01") == []
    # Given together, date, week and month narrow the list to the days they share.
    assert ids(date="2025-01-06", week="2025-W02") == [a.key]
    assert ids(week="2025-W02", month="2025-01") == [b.key, a.key]
    assert ids(date="2025-02-03", month="2025-01") == []
    # A week 53 or a year 0 matches the schema's pattern but not the calendar: no such period.
    assert client.get("/api/daily_papers", params={"week": "2025-W53"}).status_code == 404
    assert client.get("/api/daily_papers", params={"month": "0000-01"}).status_code == 404
    item = client.get("/api/daily_papers", params={"submitter": "Ada"}).json()[0]
    assert item["submittedBy"]["fullname"] == "Ada" and item["paper"]["submittedOnDailyBy"]["user"] == "Ada"


def test_list_papers_follows_link_headers(client, db):
    made = {make_paper(db, published_at=dt.datetime(2025, 1, 1) + dt.timedelta(days=n)).key for n in range(5)}
    seen, url, pages = [], "/api/papers?limit=2", 0
    while url:
        response = client.get(url)
        seen += [p["id"] for p in response.json()]
        pages += 1
        link = response.headers.get("link", "")
        url = link[link.index("<") + 1:link.index(">")] if 'rel="next"' in link else None
    assert set(seen) == made and len(seen) == 5 and pages == 3
    # A cursor this server did not hand out names no page; one that breaks the schema is invalid.
    assert client.get("/api/papers?cursor=garbage").status_code == 404
    assert client.get("/api/papers?cursor=not%20base64").status_code == 422


def test_openapi_and_docs(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/daily_papers", "/api/papers", "/api/papers/{paper_id}"} <= set(schema["paths"])
    params = {p["name"] for p in schema["paths"]["/api/daily_papers"]["get"]["parameters"]}
    assert params == {"p", "limit", "date", "week", "month", "submitter", "sort"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/docs.js").status_code == 200


@pytest.mark.parametrize("path", [
    "/api/papers/%00", "/api/papers/..%2F..%2Fetc", "/api/papers/" + "9" * 3000,
    "/api/daily_papers?date=%00", "/api/daily_papers?week=%F0%9F%98%80", "/papers/%E2%80%AE",
    "/api/papers?limit=1&cursor=" + "A" * 199, "/feeds/orgs/%00.rss", "/authors/%00",
])
def test_odd_input_never_gives_500(client, path):
    assert client.get(path).status_code in (200, 400, 404, 422)


def test_nul_characters_are_refused_up_front(client):
    for path in ("/api/papers/%00", "/authors/a%00b", "/api/daily_papers?submitter=%00"):
        response = client.get(path)
        assert response.status_code == 400 and "NUL" in response.json()["error"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_orjson_writers_give_the_bytes_of_the_pydantic_models(db):
    """The API writes its JSON with plain dicts and orjson (no model validation per paper); the
    pydantic models document it. Both must give the same bytes for every kind of card: seed and
    HF papers, organizations, submitters, missing dates, LaTeX, quotes and non-ASCII text."""
    from dailypapers.services.imports import import_seeds
    from dailypapers.services.papers import list_cards
    from dailypapers.web import schemas
    from tests.conftest import SEEDS

    import_seeds(db=db, paths=SEEDS, year=2025)
    import_hf_json(db=db, paths=HF_API)
    make_paper(db, title='Quotes "and" <tags> — ünïcode $\\alpha$ \u2028', abstract="",
               published_at=None, featured_on=None)
    db.commit()
    cards, _ = list_cards(db=db, cursor=None, limit=100_000)
    assert len(cards) > 200
    assert any(c.organization for c in cards) and any(c.submitted_by for c in cards)
    assert any(c.published_at is None for c in cards) and any(c.featured_on is None for c in cards)
    assert schemas.daily_items_json(cards) == schemas.daily_items_json_validated(cards)
    assert schemas.papers_json(cards) == schemas.papers_json_validated(cards)
    assert schemas.paper_json(cards[0]) == schemas.hf_paper_info(cards[0]).model_dump_json(
        exclude_none=True, by_alias=True).encode()
