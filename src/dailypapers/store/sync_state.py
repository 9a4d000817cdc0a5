"""SyncState: one row per upstream source (``hf``, ``arxiv``, …) and one for the scheduler.

``cursor`` is the source's checkpoint (for ``hf``: the newest day synced completely); it moves in
the same transaction as the papers it covers, so a crash never leaves it ahead of the catalog.
``lease_holder``/``lease_until`` let one process at a time run the scheduled syncs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import JSON, DateTime, Integer, String, Table, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from dailypapers.store.base import Base


class SyncState(Base):
    __tablename__ = "sync_state"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    last_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # What the last run did ({"days": 3, "fetched": 40, "created": 12, ...}).
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    lease_holder: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


def ensure_sync_state(db: Session, source: str) -> None:
    """Create the row of ``source`` unless it exists; safe when two processes race to create it."""
    values = {"source": source, "counts": {}, "runs": 0}
    table = cast(Table, SyncState.__table__)  # a declarative model always maps a Table
    stmt = (postgresql.insert(table) if db.get_bind().dialect.name == "postgresql"
            else sqlite.insert(table))
    db.execute(stmt.values(**values).on_conflict_do_nothing(index_elements=["source"]))
