"""Delivery: the outbox row of one digest for one subscription and one period.

``UNIQUE(subscription_id, period)`` is what makes "none twice" a database fact rather than a
promise of the sending code. The life of a row (services/outbox.py has the rules):

    pending ──claim──▶ claimed ──commit before the final "." of DATA──▶ sent
       ▲                  │                                            │
       └── lease expired, ┘ temporary failure (backoff) ◀── 4xx/lost ──┘
                                permanent failure (5xx) ──▶ failed
    pending/claimed ──subscription gone or nothing new──▶ skipped
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, insert, select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from dailypapers.store.base import Base, utcnow

STATUSES = ("pending", "claimed", "sent", "failed", "skipped")


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    # "daily:2025-11-20" or "weekly:2025-W47" (services/digests.py parses and prints them).
    period: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Fencing token of the current claim: the claimed → sent step only succeeds for the worker
    # whose token is still on the row, so a row re-claimed after a lease ran out cannot be sent
    # by both workers.
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(300))
    # Keys of the papers this digest carried: the next digests skip them.
    paper_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def insert_missing(*, db: Session, period: str, subscription_ids: list[int],
                   now: dt.datetime | None = None) -> int:
    """Add a pending delivery of ``period`` for each subscription that has none; returns how many.

    Safe against a concurrent enqueuer: the unique constraint decides, and losing the race is
    not an error (the dialect's ON CONFLICT DO NOTHING, available on SQLite and PostgreSQL).
    """
    if not subscription_ids:
        return 0
    have = set(db.scalars(select(Delivery.subscription_id).where(
        Delivery.period == period, Delivery.subscription_id.in_(subscription_ids))))
    missing = [sid for sid in subscription_ids if sid not in have]
    if not missing:
        return 0
    now = now or utcnow()
    rows = [{"subscription_id": sid, "period": period, "status": "pending", "attempts": 0,
             "next_attempt_at": now, "paper_keys": [], "created_at": now} for sid in missing]
    dialect = db.get_bind().dialect.name
    stmt: object
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(Delivery).on_conflict_do_nothing(
            index_elements=["subscription_id", "period"])
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(Delivery).on_conflict_do_nothing(
            index_elements=["subscription_id", "period"])
    else:  # other engines: the pre-check above is the guard
        stmt = insert(Delivery)
    db.execute(stmt, rows)
    return len(missing)
