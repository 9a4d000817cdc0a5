"""PendingSubmission: a paper a member submitted while arXiv could not be reached.

The submission is kept, not dropped: a background retry (``dailypapers submissions retry``, and
the loop inside ``serve``) fetches it later and features it on the day it was submitted. Workers
claim a row by moving ``next_attempt_at`` forward in a conditional UPDATE, so two processes never
fetch the same submission at once (no engine-specific locking needed).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.store.base import Base, utcnow


class PendingSubmission(Base):
    __tablename__ = "pending_submissions"
    __table_args__ = (Index("ix_pending_submissions_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    arxiv_id: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    day: Mapped[dt.date] = mapped_column(Date)  # featured on this day once fetched
    # pending (waiting for arXiv) · done (featured) · failed (arXiv said no, or gave up)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    paper_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
