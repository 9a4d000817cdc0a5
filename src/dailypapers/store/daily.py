"""DailyEntry: a paper featured on a day (at most once), with who submitted it and for which org."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
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
    # Display name of the submitter as the source gave it (HF ``submittedBy.fullname``).
    submitted_by: Mapped[str | None] = mapped_column(String(200))
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
