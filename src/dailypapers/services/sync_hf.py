"""``sync hf``: mirror Hugging Face's daily papers (or another dailypapers instance) day by day.

A day is read whole (every page) before anything of it is written; its papers are then upserted
and the ``hf`` checkpoint moved to it in one transaction. A crash mid-run loses at most the day
in flight, and since upserts are idempotent a rerun ends with the same catalog as one clean run.
Without dates, a run syncs from the day after its checkpoint to today and re-reads the last
``sync_hf_refresh_days`` days, whose upvotes and comment counts are still moving.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from dailypapers.services import sync_state
from dailypapers.services.catalog import ImportResult
from dailypapers.services.catalog_import import upsert_records
from dailypapers.sources.hf_client import HfClient, HfError
from dailypapers.sources.records import Rejected

log = logging.getLogger(__name__)

SOURCE = "hf"
# The default window when a first run has no checkpoint and no dates were given.
MAX_CATCH_UP_DAYS = 3660


class SyncFailed(Exception):
    """The upstream failed mid-run; days before ``result.days`` ended are committed."""

    def __init__(self, message: str, result: SyncResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class SyncResult:
    source: str
    days: list[dt.date] = field(default_factory=list)  # days synced completely
    fetched: int = 0
    imported: ImportResult = field(default_factory=ImportResult)
    rejected: list[Rejected] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {"days": len(self.days), "fetched": self.fetched, "created": self.imported.created,
                "updated": self.imported.updated, "unchanged": self.imported.unchanged,
                "rejected": len(self.rejected)}

    def summary(self) -> str:
        span = f"{self.days[0]}..{self.days[-1]}" if self.days else "no days"
        return (f"{self.source}: {len(self.days)} days ({span}), {self.fetched} items: "
                f"{self.imported.created} created, {self.imported.updated} updated, "
                f"{self.imported.unchanged} unchanged, {len(self.rejected)} rejected")


class DateRangeError(ValueError):
    """Dates that do not make a range (``--from`` after ``--to``, one without the other, ...)."""


def days_to_sync(*, db: Session, today: dt.date, refresh_days: int, date: dt.date | None = None,
                 date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dt.date]:
    """The days a run reads: the one given, the range given, or checkpoint-to-today plus the
    refresh window."""
    if date is not None:
        if date_from is not None or date_to is not None:
            raise DateRangeError("give either a date or a range (--from/--to), not both")
        return [date]
    if date_from is not None or date_to is not None:
        start, end = date_from or date_to, date_to or today
        assert start is not None
        if start > end:
            raise DateRangeError(f"the range starts ({start}) after it ends ({end})")
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    start = today - dt.timedelta(days=refresh_days - 1)
    cursor = sync_state.get_cursor(db=db, source=SOURCE)
    if cursor is not None:
        resume = dt.date.fromisoformat(cursor) + dt.timedelta(days=1)
        start = max(min(start, resume), today - dt.timedelta(days=MAX_CATCH_UP_DAYS))
    return [start + dt.timedelta(days=n) for n in range((today - start).days + 1)]


def sync_hf(*, db: Session, client: HfClient, days: list[dt.date], batch_size: int = 1000,
            progress: Callable[[dt.date, int], None] | None = None) -> SyncResult:
    """Sync ``days`` in order, one transaction per day. Raises ``SyncFailed`` (after recording the
    error in ``sync_state``) when the upstream fails; malformed items are skipped and reported."""
    result = SyncResult(source=SOURCE)
    sync_state.run_started(db=db, source=SOURCE)
    db.commit()
    for day in days:
        try:
            listed = client.day(day)
        except HfError as exc:
            db.rollback()
            message = f"{day}: {exc}"
            sync_state.run_failed(db=db, source=SOURCE, error=message, counts=result.counts())
            db.commit()
            raise SyncFailed(message, result) from exc
        for rejected in listed.rejected:
            log.warning("sync hf: skipped %s", rejected)
        try:
            upsert_records(db=db, records=listed.records, batch_size=batch_size,
                           result=result.imported)
            sync_state.advance(db=db, source=SOURCE, cursor=day.isoformat())
            db.commit()
        except Exception:
            db.rollback()
            raise
        result.days.append(day)
        result.fetched += listed.fetched
        result.rejected += listed.rejected
        if progress is not None:
            progress(day, listed.fetched)
    sync_state.run_finished(db=db, source=SOURCE, counts=result.counts())
    db.commit()
    return result
