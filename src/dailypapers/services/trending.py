"""Trending: upvotes decayed by the time since a paper was featured.

The score is the Hacker News "gravity" formula::

    score = upvotes / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY

as written by Paul Graham in news.arc (Arc 3.1, ``frontpage-rank``) and explained by Amir
Salihefendic in "How Hacker News ranking algorithm works" (2010). Hacker News subtracts the
submitter's own vote (``upvotes - 1``); we do not, because upvote counts imported from other
sources carry no automatic self-vote, so a paper with one real upvote should not score zero.

The page /papers/trending/about shows these constants from this module, so the page and the
code cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.services.papers import PaperCard, load_cards
from dailypapers.services.periods import Period
from dailypapers.store import DailyEntry, Paper

#: How fast scores fall with age; Hacker News uses 1.8.
GRAVITY = 1.8
#: Hours added to the age so that a paper featured a minute ago does not divide by ~0.
AGE_OFFSET_HOURS = 2.0
#: Only papers featured within this many days before the trending clock are ranked...
WINDOW_DAYS = 7
#: ...unless fewer papers than this were featured then: a sparse catalog (the bundled sample, an
#: instance fed a few papers a week) widens the window back, whole days at a time, until it holds
#: this many, so its trending page is a list and not one or two papers. Gravity still ranks them.
MIN_WINDOW_PAPERS = 30

_EPOCH = dt.datetime(1970, 1, 1)

SOURCE = ("Paul Graham, news.arc (Arc 3.1), frontpage-rank; A. Salihefendic, "
          "\"How Hacker News ranking algorithm works\" (2010)")


def trending_score(*, upvotes: int, age_hours: float) -> float:
    """``upvotes / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY``; negative inputs count as zero."""
    return max(upvotes, 0) / math.pow(max(age_hours, 0.0) + AGE_OFFSET_HOURS, GRAVITY)


def age_hours(*, featured_at: dt.datetime, as_of: dt.datetime) -> float:
    return (as_of - featured_at).total_seconds() / 3600.0


def trending_clock(*, latest_day: dt.date | None, now: dt.datetime) -> dt.datetime:
    """The moment ages are measured from: ``now``, or the end of the newest featured day if that
    is earlier — a catalog that stopped being fed (an archive, the bundled sample) still has a
    trending list instead of an empty one. Naive UTC like every time in the store."""
    if latest_day is None:
        return now
    return min(now, dt.datetime.combine(latest_day + dt.timedelta(days=1), dt.time()))


class Scorable(Protocol):
    """What ranking needs of a paper (``PaperCard`` has it)."""

    @property
    def id(self) -> int: ...
    @property
    def upvotes(self) -> int: ...
    @property
    def featured_at(self) -> dt.datetime | None: ...
    @property
    def published_at(self) -> dt.datetime | None: ...


@dataclass(frozen=True)
class _Candidate:
    id: int
    upvotes: int
    featured_at: dt.datetime | None
    published_at: dt.datetime | None = None


S = TypeVar("S", bound=Scorable)


def rank(items: Iterable[S], *, as_of: dt.datetime) -> list[tuple[S, float]]:
    """Items with their scores, best first; ties go to more upvotes, then the newer, then the more
    recently published (a day of old papers featured at once, like the bundled sample's, then
    lists this year's before 2022's), then the lower id.

    Never-featured items score 0.
    """
    scored = []
    for item in items:
        featured = item.featured_at
        score = 0.0 if featured is None else trending_score(
            upvotes=item.upvotes, age_hours=age_hours(featured_at=featured, as_of=as_of))
        newness = (featured - _EPOCH).total_seconds() if featured is not None else float("-inf")
        published = item.published_at
        recency = (published - _EPOCH).total_seconds() if published is not None else float("-inf")
        scored.append(((-score, -item.upvotes, -newness, -recency, item.id), item, score))
    scored.sort(key=lambda t: t[0])
    return [(item, score) for _, item, score in scored]


@dataclass(frozen=True)
class TrendingList:
    as_of: dt.datetime
    #: The first day of the window ranked (the period's start when one was given).
    start: dt.date
    ranked: list[tuple[PaperCard, float]]
    total: int


def window_start(*, db: Session, as_of: dt.datetime, min_papers: int = MIN_WINDOW_PAPERS) -> dt.date:
    """The first day of the trending window: ``WINDOW_DAYS`` before the clock, or earlier when those
    days hold fewer than ``min_papers`` featured papers — then the day of the ``min_papers``-th
    newest featured paper (its whole day included), or the first featured day if there are fewer."""
    start = (as_of - dt.timedelta(days=WINDOW_DAYS)).date()
    if min_papers <= 0:
        return start
    nth_day = db.scalar(select(DailyEntry.day).where(DailyEntry.day <= as_of.date())
                        .order_by(DailyEntry.day.desc()).offset(min_papers - 1).limit(1))
    if nth_day is None:  # fewer than min_papers featured papers in all: take them all
        nth_day = db.scalar(select(func.min(DailyEntry.day)))
    return start if nth_day is None else min(start, nth_day)


def trending(*, db: Session, now: dt.datetime, limit: int, offset: int = 0,
             within: Period | None = None, submitter: str | None = None,
             min_papers: int = MIN_WINDOW_PAPERS) -> TrendingList:
    """Featured papers, best score first: those of ``within`` if given, else those of the trending
    window before the clock (see ``window_start``); only ``submitter``'s when given.

    Scores are computed over light rows; cards are loaded for the requested slice only.
    """
    as_of = trending_clock(latest_day=db.scalar(select(func.max(DailyEntry.day))), now=now)
    if within is not None:
        start, end = within.start, within.end
    else:
        start, end = window_start(db=db, as_of=as_of, min_papers=min_papers), as_of.date() + dt.timedelta(days=1)
    stmt = (select(Paper.id, Paper.upvotes, DailyEntry.day, DailyEntry.submitted_at, Paper.published_at)
            .join(DailyEntry, DailyEntry.paper_id == Paper.id)
            .where(DailyEntry.day >= start, DailyEntry.day < end))
    if submitter is not None:
        stmt = stmt.where(DailyEntry.submitted_by == submitter)
    rows = db.execute(stmt)
    candidates = [_Candidate(pid, up, submitted or dt.datetime.combine(day, dt.time()), published)
                  for pid, up, day, submitted, published in rows]
    ranked = rank(candidates, as_of=as_of)
    page = ranked[offset:offset + limit]
    cards = {card.id: card for card in load_cards(db=db, paper_ids=[c.id for c, _ in page])}
    return TrendingList(as_of=as_of, start=start, ranked=[(cards[c.id], score) for c, score in page if c.id in cards],
                        total=len(ranked))
