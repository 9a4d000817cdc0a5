"""Checkpoints of the upstream syncs (``sync_state``): where each source got to, what its last
run did, its last error, and the lease that lets one process at a time run the schedule.

Every function works in the caller's transaction and commits nothing: a sync moves its cursor in
the same transaction as the papers it covers, so after a crash the cursor is never ahead of the
catalog (and a rerun redoes at most the batch that was in flight).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dailypapers.store.base import utcnow
from dailypapers.store.sync_state import SyncState, ensure_sync_state


@dataclass(frozen=True)
class SourceStatus:
    """One row of ``dailypapers sync status``."""

    source: str
    cursor: str | None
    last_started_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    counts: dict[str, Any]
    runs: int

    @property
    def running_or_failed(self) -> bool:
        """The last run started and has not succeeded since (it is running, or it died)."""
        return self.last_started_at is not None and (
            self.last_success_at is None or self.last_success_at < self.last_started_at)


def _row(db: Session, source: str) -> SyncState:
    ensure_sync_state(db, source)
    return db.scalars(select(SyncState).where(SyncState.source == source)).one()


def get_cursor(*, db: Session, source: str) -> str | None:
    return db.scalar(select(SyncState.cursor).where(SyncState.source == source))


def statuses(*, db: Session) -> list[SourceStatus]:
    rows = db.scalars(select(SyncState).order_by(SyncState.source))
    return [SourceStatus(source=r.source, cursor=r.cursor, last_started_at=r.last_started_at,
                         last_success_at=r.last_success_at, last_error=r.last_error,
                         last_error_at=r.last_error_at, counts=dict(r.counts or {}), runs=r.runs)
            for r in rows]


def run_started(*, db: Session, source: str, now: dt.datetime | None = None) -> None:
    row = _row(db, source)
    row.last_started_at = now or utcnow()
    row.runs += 1


def advance(*, db: Session, source: str, cursor: str, newest: bool = True) -> None:
    """Move the checkpoint to ``cursor``; with ``newest``, never backwards (cursors that sort as
    strings, such as ISO days)."""
    row = _row(db, source)
    if not newest or row.cursor is None or cursor > row.cursor:
        row.cursor = cursor


def run_finished(*, db: Session, source: str, counts: dict[str, Any],
                 now: dt.datetime | None = None) -> None:
    row = _row(db, source)
    row.last_success_at = now or utcnow()
    row.counts = counts


def run_failed(*, db: Session, source: str, error: str, counts: dict[str, Any],
               now: dt.datetime | None = None) -> None:
    row = _row(db, source)
    row.last_error = error[:4000]
    row.last_error_at = now or utcnow()
    row.counts = counts


def try_lease(*, db: Session, source: str, holder: str, seconds: float,
              now: dt.datetime | None = None) -> bool:
    """Take (or renew) the lease of ``source`` for ``seconds`` unless another holder has it.

    One conditional ``UPDATE``: of two processes racing, the database lets exactly one match.
    """
    now = now or utcnow()
    ensure_sync_state(db, source)
    taken = db.execute(
        update(SyncState)
        .where(SyncState.source == source,
               or_(SyncState.lease_until.is_(None), SyncState.lease_until < now,
                   SyncState.lease_holder == holder))
        .values(lease_holder=holder, lease_until=now + dt.timedelta(seconds=seconds))
        .execution_options(synchronize_session=False))
    return bool(getattr(taken, "rowcount", 0) == 1)


def release_lease(*, db: Session, source: str, holder: str) -> None:
    db.execute(update(SyncState).where(SyncState.source == source, SyncState.lease_holder == holder)
               .values(lease_holder=None, lease_until=None)
               .execution_options(synchronize_session=False))
