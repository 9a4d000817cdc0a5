"""Daily lists: which papers were featured on a day, and the neighbouring days that have papers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dailypapers.store import DailyEntry, Paper, PaperAuthor


def latest_day(*, db: Session) -> dt.date | None:
    return db.scalar(select(func.max(DailyEntry.day)))


def entries_on(*, db: Session, day: dt.date) -> list[DailyEntry]:
    """The entries featured on ``day``, most upvoted first."""
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
