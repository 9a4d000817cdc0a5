"""Subscription: one e-mail address that asked for digests, its schedule, topics and state.

A row exists from the moment someone submits the form; nothing but the confirmation mail is
ever sent until ``confirmed_at`` is set. Unsubscribing keeps the row (with ``unsubscribed_at``)
so that the address's sent history and the idempotency of the one-click link survive.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.store.base import Base, utcnow

CADENCES = ("daily", "weekly")
KINDS = ("trending", "for_you")


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The address as typed (domain lower-cased); ``email_key`` is its case-folded form, the
    # identity of a subscriber, so "Ada@X.org" and "ada@x.org" are one subscription.
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    # The member who subscribed while logged in (no foreign key: accounts live in another
    # migration branch, and a subscription outlives the account that created it).
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cadence: Mapped[str] = mapped_column(String(10), default="daily")
    # 0 = Monday … 6 = Sunday; used by the weekly cadence only.
    weekday: Mapped[int] = mapped_column(Integer, default=0)
    send_hour: Mapped[int] = mapped_column(Integer, default=8)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    num_papers: Mapped[int] = mapped_column(Integer, default=10)
    # Saved searches, in the subscriber's order; each becomes a section of the digest.
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "trending" (everyone's list) or "for_you" (the member's For you first, then trending);
    # for_you needs ``user_id`` and falls back to trending without it (services/digests.py).
    kind: Mapped[str] = mapped_column(String(16), default="trending")
    # Random per-subscription value mixed into every signed link, so that rotating it revokes
    # all links sent before (see services/subscriptions.py).
    token_nonce: Mapped[str] = mapped_column(String(32))
    confirm_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Set after ``digest_failures_before_pause`` permanent failures in a row; cleared when the
    # subscriber saves their preferences (which proves the address reads mail again).
    paused_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    last_failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_active(self) -> bool:
        """Confirmed, not unsubscribed and not paused: digests go out to it."""
        return (self.confirmed_at is not None and self.unsubscribed_at is None
                and self.paused_at is None)

    @property
    def status(self) -> str:
        if self.unsubscribed_at is not None:
            return "unsubscribed"
        if self.confirmed_at is None:
            return "unconfirmed"
        if self.paused_at is not None:
            return "paused"
        return "active"
