"""Daily lists: the papers featured in a day, week or month, the neighbouring periods that have
papers, and the HF ``/api/daily_papers`` selection."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Date, Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from dailypapers.services import trending
from dailypapers.services.papers import PaperCard, card_select, fetch_cards
from dailypapers.services.periods import Period, containing
from dailypapers.store import DailyEntry, Paper, PaperAuthor

DailySort = Literal["publishedAt", "trending"]


def latest_day(*, db: Session) -> dt.date | None:
    return db.scalar(select(func.max(DailyEntry.day)))


def entries_on(*, db: Session, day: dt.date) -> list[DailyEntry]:
    """The entries (ORM rows) featured on ``day``, most upvoted first."""
    stmt = (
        select(DailyEntry).join(DailyEntry.paper).where(DailyEntry.day == day)
        .order_by(Paper.upvotes.desc(), Paper.id)
        .options(selectinload(DailyEntry.paper).selectinload(Paper.author_links)
                 .joinedload(PaperAuthor.author))
    )
    return list(db.scalars(stmt).unique())


def previous_day(*, db: Session, day: dt.date) -> dt.date | None:
    return db.scalar(select(func.max(DailyEntry.day)).where(DailyEntry.day < day))


def next_day(*, db: Session, day: dt.date) -> dt.date | None:
    return db.scalar(select(func.min(DailyEntry.day)).where(DailyEntry.day > day))


@dataclass(frozen=True)
class PeriodPage:
    """One page of a period's papers (most upvoted first) and the periods around it that have papers."""

    period: Period
    cards: list[PaperCard]
    total: int
    page: int
    page_size: int
    previous: Period | None
    next: Period | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _in(period: Period):  # type: ignore[no-untyped-def]
    return (DailyEntry.day >= period.start) & (DailyEntry.day < period.end)


# The statements of every period page and of /api/daily_papers are built once, the period and
# the page bound per call (see papers.fetch_cards for why).
_START, _END = bindparam("start", type_=Date), bindparam("end", type_=Date)
_LIMIT, _OFFSET = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
_IN_PERIOD = (DailyEntry.day >= _START) & (DailyEntry.day < _END)
_PERIOD_CARDS = (card_select().where(_IN_PERIOD)
                 .order_by(Paper.upvotes.desc(), Paper.id).limit(_LIMIT).offset(_OFFSET))
# The count and both neighbours in one round trip (each an index lookup on daily_entries.day).
_PERIOD_AROUND = select(
    select(func.count()).select_from(DailyEntry).where(_IN_PERIOD).scalar_subquery(),
    select(func.max(DailyEntry.day)).where(DailyEntry.day < _START).scalar_subquery(),
    select(func.min(DailyEntry.day)).where(DailyEntry.day >= _END).scalar_subquery(),
)


def period_page(*, db: Session, period: Period, page: int = 0, page_size: int = 60) -> PeriodPage:
    """The papers of a day, week or month, most upvoted first; empty neighbours are skipped."""
    params = {"start": period.start, "end": period.end, "limit": page_size, "offset": page * page_size}
    total, before, after = db.connection().execute(_PERIOD_AROUND, params).one()
    return PeriodPage(
        period=period, cards=fetch_cards(db=db, stmt=_PERIOD_CARDS, params=params),
        total=total or 0, page=page, page_size=page_size,
        previous=containing(period.kind, before) if before else None,
        next=containing(period.kind, after) if after else None,
    )


def latest_cards(*, db: Session, days: int) -> list[PaperCard]:
    """The papers of the newest ``days`` days that have papers: newest day first, then by upvotes."""
    recent = select(DailyEntry.day).distinct().order_by(DailyEntry.day.desc()).limit(days)
    since = db.scalar(select(func.min(recent.subquery().c.day)))
    if since is None:
        return []
    stmt = (card_select().where(DailyEntry.day >= since)
            .order_by(DailyEntry.day.desc(), Paper.upvotes.desc(), Paper.id))
    return fetch_cards(db=db, stmt=stmt)


@dataclass(frozen=True)
class DailyQuery:
    """The parameters of HF's ``GET /api/daily_papers``, already validated."""

    period: Period | None = None
    submitter: str | None = None
    sort: DailySort = "publishedAt"
    page: int = 0
    limit: int = 50


def daily_papers(*, db: Session, query: DailyQuery, now: dt.datetime) -> list[PaperCard]:
    """Featured papers as HF's daily-papers API lists them.

    ``publishedAt`` (the default): newest featured day first, most upvoted first within a day —
    for a single date that is the order of hf.co's own responses. ``trending``: the trending
    score (see ``services.trending``), over the period when one is given, else the trending window.
    """
    offset = query.page * query.limit
    if query.sort == "trending":
        ranked = trending.trending(db=db, now=now, limit=query.limit, offset=offset,
                                   within=query.period, submitter=query.submitter)
        return [card for card, _ in ranked.ranked]
    params: dict[str, object] = {"limit": query.limit, "offset": offset}
    if query.period is not None:
        params.update(start=query.period.start, end=query.period.end)
    if query.submitter is not None:
        params["submitter"] = query.submitter
    return fetch_cards(db=db, stmt=_daily_select(query.period is not None, query.submitter is not None),
                       params=params)


@functools.cache
def _daily_select(in_period: bool, by_submitter: bool) -> Select:  # type: ignore[type-arg]
    """The statement of ``daily_papers`` (publishedAt order) for one combination of filters."""
    stmt = card_select().where(DailyEntry.id.is_not(None))
    if in_period:
        stmt = stmt.where(_IN_PERIOD)
    if by_submitter:
        stmt = stmt.where(DailyEntry.submitted_by == bindparam("submitter"))
    return (stmt.order_by(DailyEntry.day.desc(), Paper.upvotes.desc(), Paper.id)
            .limit(_LIMIT).offset(_OFFSET))
