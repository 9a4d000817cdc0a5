"""Acceptance: the real ``huggingface_hub`` client works unchanged against a real server process.

The saved hf.co responses are imported; every answer the client parses is checked against the
database (titles, upvotes, authors, dates).
"""

import datetime as dt

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from sqlalchemy import select

from dailypapers.services.imports import import_hf_json
from dailypapers.services.trending import MIN_WINDOW_PAPERS, window_start
from dailypapers.store import Author, DailyEntry, Paper, PaperAuthor
from tests.conftest import HF_API


def _db_papers(db, start: dt.date, end: dt.date) -> dict[str, dict]:
    rows = db.execute(select(Paper.id, Paper.key, Paper.title, Paper.upvotes, Paper.published_at,
                             DailyEntry.day, DailyEntry.submitted_at)
                      .join(DailyEntry, DailyEntry.paper_id == Paper.id)
                      .where(DailyEntry.day >= start, DailyEntry.day < end)).all()
    out = {}
    for pid, key, title, upvotes, published, day, submitted in rows:
        authors = db.scalars(select(Author.name).join(PaperAuthor, PaperAuthor.author_id == Author.id)
                             .where(PaperAuthor.paper_id == pid).order_by(PaperAuthor.position)).all()
        out[key] = {"title": title, "upvotes": upvotes, "published": published, "day": day,
                    "submitted": submitted, "authors": list(authors)}
    return out


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC)


def _check(infos, expected: dict[str, dict]):
    assert {p.id for p in infos} == set(expected)
    for info in infos:
        row = expected[info.id]
        assert info.title == row["title"]
        assert (info.upvotes or 0) == row["upvotes"]  # the client turns 0 into None
        assert [a.name for a in info.authors or []] == row["authors"]
        assert info.published_at == _utc(row["published"])
        assert info.submitted_at == _utc(row["submitted"] or dt.datetime.combine(row["day"], dt.time()))


@pytest.fixture
def api(live_server, db):
    result = import_hf_json(db=db, paths=HF_API)
    assert not result.rejected
    return HfApi(endpoint=live_server, token=False)


def test_list_daily_papers_by_date_week_month(api, db):
    day = list(api.list_daily_papers(date="2025-11-20", limit=100))
    expected = _db_papers(db, dt.date(2025, 11, 20), dt.date(2025, 11, 21))
    assert len(day) == len(expected) >= 6
    _check(day, expected)
    assert [p.upvotes or 0 for p in day] == sorted((p.upvotes or 0 for p in day), reverse=True)

    week = list(api.list_daily_papers(week="2025-W47", limit=100))
    _check(week, _db_papers(db, dt.date(2025, 11, 17), dt.date(2025, 11, 24)))

    month = list(api.list_daily_papers(month="2024-06", limit=100))
    assert month
    _check(month, _db_papers(db, dt.date(2024, 6, 1), dt.date(2024, 7, 1)))

    first, second = (list(api.list_daily_papers(date="2025-11-20", limit=3, p=n)) for n in (0, 1))
    assert [p.id for p in first + second] == [p.id for p in day[:6]]


def test_list_daily_papers_trending(api, db):
    trending = list(api.list_daily_papers(sort="trending", limit=100))
    # The newest imported day is 2026-08-20: the window is the 7 days up to its end, reaching
    # further back only if those days hold fewer than MIN_WINDOW_PAPERS papers.
    start = window_start(db=db, as_of=dt.datetime(2026, 8, 21))
    week = _db_papers(db, dt.date(2026, 8, 14), dt.date(2026, 8, 22))
    assert start == dt.date(2026, 8, 14) if len(week) >= MIN_WINDOW_PAPERS else start < dt.date(2026, 8, 14)
    expected = _db_papers(db, start, dt.date(2026, 8, 22))
    assert len(expected) >= MIN_WINDOW_PAPERS
    _check(trending, expected)
    # Papers featured at the same moment have the same age: among them the score order is the
    # upvote order (this import features each day's papers at its midnight).
    for moment in {(row["day"], row["submitted"]) for row in expected.values()}:
        same_age = [p.upvotes or 0 for p in trending if (expected[p.id]["day"], expected[p.id]["submitted"]) == moment]
        assert same_age == sorted(same_age, reverse=True)
    in_month = list(api.list_daily_papers(sort="trending", month="2025-11", limit=100))
    _check(in_month, _db_papers(db, dt.date(2025, 11, 1), dt.date(2025, 12, 1)))


def test_paper_info_and_read_paper(api, db):
    row = db.execute(select(Paper).where(Paper.github_repo.is_not(None)).limit(1)).scalar_one()
    info = api.paper_info(row.key)
    assert (info.id, info.title, info.upvotes, info.github_repo) == (row.key, row.title, row.upvotes,
                                                                    row.github_repo)
    assert [a.name for a in info.authors] == row.author_names
    assert info.published_at == _utc(row.published_at)
    assert info.comments == row.num_comments
    text = api.read_paper(row.key)
    assert text.startswith(f"# {row.title}\n") and row.abstract[:200] in text
    assert f"https://arxiv.org/pdf/{row.key}" in text
    with pytest.raises(HfHubHTTPError) as missing:
        api.paper_info("2501.99999")
    assert missing.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError):
        api.read_paper("2501.99999")


def test_invalid_parameters_reach_the_client_as_errors(api):
    with pytest.raises(HfHubHTTPError) as err:
        list(api.list_daily_papers(limit=500))
    assert err.value.response.status_code == 422
    assert "limit" in str(err.value)
