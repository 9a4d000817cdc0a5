"""DailyEntry: a paper featured on a day (at most once), with who submitted it and for which org."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dailypapers.store.base import Base, utcnow
from dailypapers.store.orgs import Organization
from dailypapers.store.papers import Paper


class DailyEntry(Base):
    __tablename__ = "daily_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), unique=True
    )
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The submitter's user name as the source gave it (HF ``submittedOnDailyBy.user``); older
    # imports kept whatever name the source had.
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    # HF ``submittedBy.fullname`` / ``avatarUrl`` (added by 0011).
    submitter_fullname: Mapped[str | None] = mapped_column(String(200))
    submitter_avatar_url: Mapped[str | None] = mapped_column(String(500))
    # True when ``day`` is a guess (a seed card's date), not a day a source featured it on: any
    # real featured day replaces it, and it never replaces a real one.
    estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    # The local account that submitted the paper (None for imported entries); added by 0003.
    submitter_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    paper: Mapped[Paper] = relationship(lazy="joined")
    organization: Mapped[Organization | None] = relationship(lazy="joined")
