"""Dismissal: a member said "not interested" in a paper.

"For you" never shows a dismissed paper again and ranks the papers near it lower
(``search/recommend.py``). Undoing it deletes the row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.store.base import Base, utcnow


class Dismissal(Base):
    __tablename__ = "dismissals"
    __table_args__ = (UniqueConstraint("user_id", "paper_id"),
                      Index("ix_dismissals_user_created", "user_id", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
