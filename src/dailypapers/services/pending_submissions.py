"""Submissions kept while arXiv is unreachable or slow, and the retry that features them later.

A member's submission never dead-ends: when ``submissions.submit_paper`` raises
``SourceUnavailable``, the route keeps it here (``keep``) and tells the member in plain words;
``retry_due`` (run by ``dailypapers submissions retry`` and by the loop inside ``serve``) fetches
it later and features it on the day it was submitted. Its state shows on the member's account
page. Each attempt claims its row first (a conditional UPDATE that moves ``next_attempt_at``
past a lease), so several workers on one database never fetch the same submission twice; the
network call happens outside any transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dailypapers.services.errors import Conflict, ServiceError
from dailypapers.services.submissions import (
    ArxivFetcher,
    SourceUnavailable,
    submit_paper,
)
from dailypapers.store import PendingSubmission, User
from dailypapers.store.base import utcnow
from dailypapers.store.db import use_case

FIRST_RETRY = dt.timedelta(minutes=2)
MAX_BACKOFF = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(days=2)
LEASE = dt.timedelta(minutes=5)  # longer than one arXiv request with its timeout


@dataclass(frozen=True)
class RetrySummary:
    done: int = 0
    failed: int = 0
    waiting: int = 0

    def line(self) -> str:
        return (f"submissions retried: {self.done} featured, {self.failed} failed, "
                f"{self.waiting} still waiting for arXiv")


def keep(*, db: Session, user: User, arxiv_id: str, organization_id: int | None, day: dt.date,
         reason: str) -> PendingSubmission:
    """Keep a submission that could not be fetched now (the same one twice is kept once).

    A whole use case: its own transaction (``use_case`` refuses to commit writes the caller left
    pending, where a bare commit would have taken them along)."""
    with use_case(db):
        existing = db.scalars(select(PendingSubmission).where(
            PendingSubmission.user_id == user.id, PendingSubmission.arxiv_id == arxiv_id,
            PendingSubmission.state == "pending")).first()
        if existing is not None:
            return existing
        now = utcnow()
        pending = PendingSubmission(user_id=user.id, arxiv_id=arxiv_id,
                                    organization_id=organization_id, day=day, state="pending",
                                    attempts=1, last_error=reason,
                                    next_attempt_at=now + FIRST_RETRY, created_at=now)
        db.add(pending)
    return pending


def of_user(*, db: Session, user_id: int, limit: int = 20) -> list[PendingSubmission]:
    """The member's kept submissions, newest first (waiting, featured later, or failed)."""
    return list(db.scalars(select(PendingSubmission).where(PendingSubmission.user_id == user_id)
                           .order_by(PendingSubmission.created_at.desc(), PendingSubmission.id.desc())
                           .limit(limit)))


def _claim(db: Session, row_id: int, now: dt.datetime) -> bool:
    claimed = db.execute(update(PendingSubmission).where(
        PendingSubmission.id == row_id, PendingSubmission.state == "pending",
        PendingSubmission.next_attempt_at <= now).values(next_attempt_at=now + LEASE))
    db.commit()
    return claimed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _finish(db: Session, row: PendingSubmission, *, state: str, error: str = "",
            paper_key: str | None = None) -> None:
    row.state, row.last_error, row.paper_key, row.finished_at = state, error, paper_key, utcnow()
    db.commit()


def _attempt(db: Session, arxiv: ArxivFetcher, row: PendingSubmission, now: dt.datetime) -> str:
    user = db.get(User, row.user_id)
    if user is None:  # pragma: no cover - the row goes with its user (ON DELETE CASCADE)
        return "failed"
    try:
        submit_paper(db=db, arxiv=arxiv, user=user, ref=row.arxiv_id,
                     organization_id=row.organization_id, day=row.day)
    except SourceUnavailable as exc:
        db.rollback()
        row.attempts += 1
        row.last_error = exc.message
        if now - row.created_at >= GIVE_UP_AFTER:
            _finish(db, row, state="failed",
                    error=f"arXiv did not answer for {GIVE_UP_AFTER.days} days; submit it again later.")
            return "failed"
        backoff = min(FIRST_RETRY * 2 ** (row.attempts - 1), MAX_BACKOFF)
        row.next_attempt_at = now + backoff
        db.commit()
        return "waiting"
    except Conflict as exc:
        db.rollback()
        link = getattr(exc, "link", None) or ""
        _finish(db, row, state="failed", error=exc.message,
                paper_key=link.removeprefix("/papers/") or None)
        return "failed"
    except ServiceError as exc:
        db.rollback()
        _finish(db, row, state="failed", error=exc.message)
        return "failed"
    _finish(db, row, state="done", paper_key=row.arxiv_id)
    return "done"


def retry_due(*, db: Session, arxiv: ArxivFetcher, now: dt.datetime | None = None,
              limit: int = 50) -> RetrySummary:
    """Try every kept submission whose time has come (oldest first); returns what happened."""
    now = now or utcnow()
    due = list(db.scalars(select(PendingSubmission.id).where(
        PendingSubmission.state == "pending", PendingSubmission.next_attempt_at <= now)
        .order_by(PendingSubmission.next_attempt_at, PendingSubmission.id).limit(limit)))
    db.commit()
    counts = {"done": 0, "failed": 0, "waiting": 0}
    for row_id in due:
        if not _claim(db, row_id, now):
            continue  # another worker has it
        row = db.get(PendingSubmission, row_id)
        assert row is not None
        counts[_attempt(db, arxiv, row, now)] += 1
    return RetrySummary(**counts)
