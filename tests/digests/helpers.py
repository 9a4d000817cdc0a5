"""Shared steps of the digest tests: papers of a known day, runs of the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.mail.session import session_from_settings
from dailypapers.services import outbox
from dailypapers.services.digests import DigestPeriod
from dailypapers.settings import Settings
from dailypapers.store.deliveries import Delivery
from tests.factories import make_paper

DAY = dt.date(2025, 1, 2)
PERIOD = "daily:2025-01-02"


def featured_papers(db: Session, upvotes: list[int], *, day: dt.date = DAY, **extra):
    """Papers featured on ``day`` with these upvotes (so trending order is by upvotes)."""
    return [make_paper(db, upvotes=n, featured_on=day,
                       submitted_at=dt.datetime.combine(day, dt.time(9)), **extra)
            for n in upvotes]


def run(db: Session, settings: Settings, period: str | None = PERIOD,
        policy: outbox.OutboxPolicy | None = None) -> outbox.RunSummary:
    return outbox.send_digests(db=db, settings=settings, mail=session_from_settings(settings),
                               period=DigestPeriod.parse(period) if period else None,
                               policy=policy)


def deliveries(db: Session) -> list[Delivery]:
    db.expire_all()
    return list(db.scalars(select(Delivery).order_by(Delivery.id)))
