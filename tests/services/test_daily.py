import datetime as dt

from dailypapers.services import daily
from dailypapers.services.periods import parse_period
from tests.factories import make_paper


def _days(db, *days_and_votes):
    return [make_paper(db, featured_on=day, upvotes=votes) for day, votes in days_and_votes]


def test_period_page_orders_by_upvotes_and_skips_empty_neighbours(db):
    a, b, c, d = _days(db, (dt.date(2025, 1, 6), 5), (dt.date(2025, 1, 9), 1),
                       (dt.date(2025, 1, 9), 7), (dt.date(2025, 1, 20), 3))
    view = daily.period_page(db=db, period=parse_period("day", "2025-01-09"))
    assert [card.id for card in view.cards] == [c.id, b.id]
    assert view.total == 2
    assert view.previous.slug == "2025-01-06" and view.next.slug == "2025-01-20"
    week = daily.period_page(db=db, period=parse_period("week", "2025-W02"))  # Jan 6–12
    assert [card.id for card in week.cards] == [c.id, a.id, b.id]
    assert week.previous is None and week.next.slug == "2025-W04"  # W03 is empty: skipped
    month = daily.period_page(db=db, period=parse_period("month", "2025-01"))
    assert [card.id for card in month.cards] == [c.id, a.id, d.id, b.id]
    assert month.previous is None and month.next is None


def test_empty_day_still_links_its_neighbours(db):
    _days(db, (dt.date(2025, 1, 6), 5), (dt.date(2025, 1, 9), 1))
    view = daily.period_page(db=db, period=parse_period("day", "2025-01-07"))
    assert view.cards == [] and view.total == 0
    assert view.previous.slug == "2025-01-06" and view.next.slug == "2025-01-09"


def test_period_page_paginates(db):
    papers = _days(db, *[(dt.date(2025, 2, 3), n) for n in range(5)])
    first = daily.period_page(db=db, period=parse_period("day", "2025-02-03"), page=0, page_size=2)
    last = daily.period_page(db=db, period=parse_period("day", "2025-02-03"), page=2, page_size=2)
    assert [c.id for c in first.cards] == [papers[4].id, papers[3].id]
    assert [c.id for c in last.cards] == [papers[0].id]
    assert first.pages == 3


def test_latest_cards_takes_the_newest_days_that_have_papers(db):
    _old, mid, new_low, new_high = _days(db, (dt.date(2025, 1, 1), 9), (dt.date(2025, 1, 5), 1),
                                        (dt.date(2025, 1, 8), 2), (dt.date(2025, 1, 8), 4))
    assert [c.id for c in daily.latest_cards(db=db, days=2)] == [new_high.id, new_low.id, mid.id]
    assert daily.latest_cards(db=db, days=0) == []


def test_daily_papers_query(db):
    a = make_paper(db, featured_on=dt.date(2025, 1, 6), upvotes=5, submitted_by="Ada")
    b = make_paper(db, featured_on=dt.date(2025, 1, 7), upvotes=1, submitted_by="Alan")
    c = make_paper(db, featured_on=dt.date(2025, 1, 7), upvotes=9, submitted_by="Ada")
    now = dt.datetime(2025, 1, 8)
    newest_first = daily.daily_papers(db=db, query=daily.DailyQuery(), now=now)
    assert [x.id for x in newest_first] == [c.id, b.id, a.id]
    by_ada = daily.daily_papers(db=db, query=daily.DailyQuery(submitter="Ada"), now=now)
    assert [x.id for x in by_ada] == [c.id, a.id]
    page = daily.daily_papers(db=db, query=daily.DailyQuery(page=1, limit=2), now=now)
    assert [x.id for x in page] == [a.id]
    day = daily.daily_papers(db=db, query=daily.DailyQuery(period=parse_period("day", "2025-01-06")), now=now)
    assert [x.id for x in day] == [a.id]
    # Trending: a (5 votes, 48 h old at the clock) vs b (1 vote, 24 h) vs c (9 votes, 24 h).
    trend = daily.daily_papers(db=db, query=daily.DailyQuery(sort="trending"), now=now)
    assert [x.id for x in trend] == [c.id, a.id, b.id]
