"""Trending: the published formula, exact values, the clock and the ranking."""

import datetime as dt

import pytest

from dailypapers.services import trending
from dailypapers.services.trending import (
    AGE_OFFSET_HOURS, GRAVITY, MIN_WINDOW_PAPERS, WINDOW_DAYS, rank, trending_clock, trending_score,
)
from tests.factories import make_paper


def test_constants_are_the_hacker_news_ones():
    assert (GRAVITY, AGE_OFFSET_HOURS, WINDOW_DAYS, MIN_WINDOW_PAPERS) == (1.8, 2.0, 7, 30)


@pytest.mark.parametrize(("upvotes", "age", "expected"), [
    (10, 0, 2.8717458874925876),      # 10 / 2^1.8
    (10, 24, 0.028382325319900977),   # 10 / 26^1.8
    (50, 24, 0.14191162659950488),
    (1, 22, 0.0032780816364406315),   # 1 / 24^1.8
    (100, 46, 0.09413817458313355),   # 100 / 48^1.8
    (0, 5, 0.0),
])
def test_score_exact_values(upvotes, age, expected):
    assert trending_score(upvotes=upvotes, age_hours=age) == pytest.approx(expected, rel=1e-12)


def test_negative_inputs_count_as_zero():
    assert trending_score(upvotes=-3, age_hours=1) == 0.0
    assert trending_score(upvotes=10, age_hours=-5) == trending_score(upvotes=10, age_hours=0)


def test_older_papers_need_more_votes():
    # A day-old paper needs (26/2)^1.8 ≈ 101 times the votes of a fresh one to tie.
    fresh = trending_score(upvotes=10, age_hours=0)
    assert trending_score(upvotes=1100, age_hours=24) > fresh > trending_score(upvotes=1000, age_hours=24)


def test_clock_stops_at_the_end_of_the_newest_day():
    now = dt.datetime(2026, 11, 25, 7, 0)
    assert trending_clock(latest_day=dt.date(2026, 8, 21), now=now) == dt.datetime(2026, 8, 22)
    assert trending_clock(latest_day=dt.date(2026, 11, 25), now=now) == now
    assert trending_clock(latest_day=None, now=now) == now


class _Item:
    def __init__(self, id, upvotes, featured_at, published_at=None):
        self.id, self.upvotes, self.featured_at = id, upvotes, featured_at
        self.published_at = published_at


def test_rank_orders_by_score_then_upvotes_then_newness_then_id():
    as_of = dt.datetime(2025, 1, 10)
    items = [
        _Item(1, 100, as_of - dt.timedelta(hours=48)),  # 100/50^1.8 = 0.0878
        _Item(2, 10, as_of - dt.timedelta(hours=2)),    # 10/4^1.8 = 0.8247
        _Item(3, 10, as_of - dt.timedelta(hours=2)),    # same score and votes: lower id first
        _Item(4, 50, None),                             # never featured: last
        _Item(5, 20, as_of - dt.timedelta(hours=14)),   # 20/16^1.8 = 0.1357
    ]
    ranked = rank(items, as_of=as_of)
    assert [item.id for item, _ in ranked] == [2, 3, 5, 1, 4]
    assert ranked[0][1] == pytest.approx(10 / 4 ** 1.8, rel=1e-12)
    assert ranked[-1][1] == 0.0


def test_a_tie_within_one_day_goes_to_the_more_recently_published_paper():
    """Like the bundled sample: papers of many years featured on one day with equal votes."""
    as_of = dt.datetime(2025, 12, 11)
    featured = dt.datetime(2025, 12, 10)
    items = [_Item(1, 1, featured, dt.datetime(2022, 8, 15)), _Item(2, 1, featured, dt.datetime(2025, 9, 30)),
             _Item(3, 1, featured, None), _Item(4, 3, featured, dt.datetime(2021, 1, 1))]
    assert [item.id for item, _ in rank(items, as_of=as_of)] == [4, 2, 1, 3]


def test_trending_ranks_the_window_before_the_clock(db):
    day = dt.date(2025, 3, 10)
    old = make_paper(db, featured_on=day - dt.timedelta(days=WINDOW_DAYS), upvotes=10_000)
    popular_yesterday = make_paper(db, featured_on=day - dt.timedelta(days=1), upvotes=300)
    fresh = make_paper(db, featured_on=day, upvotes=40)
    quiet = make_paper(db, featured_on=day, upvotes=2)
    # min_papers=3: the window already holds three papers, so it does not widen back to `old`.
    result = trending.trending(db=db, now=dt.datetime(2030, 1, 1), limit=10, min_papers=3)
    assert result.as_of == dt.datetime(2025, 3, 11)
    assert [c.id for c, _ in result.ranked] == [popular_yesterday.id, fresh.id, quiet.id]
    assert old.id not in [c.id for c, _ in result.ranked]  # featured 7 days before the newest day
    # 300 / (48 + 2)^1.8 vs 40 / (24 + 2)^1.8: the day-old paper's votes outweigh its age.
    assert result.ranked[0][1] == pytest.approx(300 / 50 ** 1.8, rel=1e-12)
    assert result.ranked[1][1] == pytest.approx(40 / 26 ** 1.8, rel=1e-12)
    assert result.total == 3
    second_page = trending.trending(db=db, now=dt.datetime(2030, 1, 1), limit=2, offset=2, min_papers=3)
    assert [c.id for c, _ in second_page.ranked] == [quiet.id]


def test_trending_uses_the_submission_time_when_known(db):
    day = dt.date(2025, 3, 10)
    early = make_paper(db, featured_on=day, upvotes=10, submitted_at=dt.datetime(2025, 3, 10, 0, 30))
    late = make_paper(db, featured_on=day, upvotes=10, submitted_at=dt.datetime(2025, 3, 10, 20, 0))
    result = trending.trending(db=db, now=dt.datetime(2025, 3, 10, 22, 0), limit=10)
    assert [c.id for c, _ in result.ranked] == [late.id, early.id]
    assert result.ranked[0][1] == pytest.approx(10 / 4 ** 1.8, rel=1e-12)


def test_a_sparse_catalog_widens_the_window_until_it_holds_min_papers(db):
    # One paper a fortnight (the bundled sample is like this): seven days hold only the newest.
    newest = dt.date(2025, 3, 10)
    papers = [make_paper(db, featured_on=newest - dt.timedelta(days=14 * i), upvotes=10 + i) for i in range(6)]
    assert [c.id for c, _ in trending.trending(db=db, now=dt.datetime(2030, 1, 1), limit=10,
                                               min_papers=1).ranked] == [papers[0].id]
    widened = trending.trending(db=db, now=dt.datetime(2030, 1, 1), limit=10, min_papers=4)
    # The window reaches back to the 4th newest paper's day, no further; gravity ranks within it.
    assert sorted(c.id for c, _ in widened.ranked) == sorted(p.id for p in papers[:4])
    assert widened.ranked[0][0].id == papers[0].id
    assert widened.total == 4
    # Fewer featured papers than asked for: all of them.
    assert trending.trending(db=db, now=dt.datetime(2030, 1, 1), limit=10, min_papers=50).total == 6


def test_a_busy_window_does_not_widen(db):
    day = dt.date(2025, 3, 10)
    old = make_paper(db, featured_on=day - dt.timedelta(days=WINDOW_DAYS), upvotes=10_000)
    recent = [make_paper(db, featured_on=day - dt.timedelta(days=i % WINDOW_DAYS), upvotes=5) for i in range(8)]
    result = trending.trending(db=db, now=dt.datetime(2030, 1, 1), limit=20, min_papers=8)
    assert old.id not in [c.id for c, _ in result.ranked]
    assert result.total == len(recent)
