"""Submitting a paper by arXiv id or URL: fetch its metadata, feature it today, credit the submitter.

The arXiv client is passed in (built from Settings by the caller), so the same function serves
the web form, the JSON API and tests against a local server with recorded arXiv responses.
When arXiv cannot be reached, curators may enter the metadata by hand (``submit_manual``).

``submit_paper`` is a whole use case with its own transactions: it asks arXiv while holding no
database connection, then stores and features the paper in one transaction. ``submit_manual``
runs in the caller's (``with db.begin():``). Neither commits anything the caller had pending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dailypapers.services import orgs_admin
from dailypapers.services.catalog_import import upsert_records
from dailypapers.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
)
from dailypapers.sources.arxiv_client import (
    ArxivBadResponse,
    ArxivInvalidId,
    ArxivNotFound,
    ArxivUnavailable,
    normalize_id,
)
from dailypapers.sources.records import PaperRecord
from dailypapers.store import DailyEntry, Paper, User
from dailypapers.store.base import utcnow
from dailypapers.store.db import use_case


class ArxivFetcher(Protocol):
    def fetch_one(self, arxiv_id: str) -> PaperRecord: ...


class SourceUnavailable(ServiceError):
    """arXiv could not be reached or answered nonsense; nothing was changed.

    ``arxiv_id`` is the paper asked for, so the caller can keep the submission for later
    (``services.pending_submissions``); ``detail`` is the technical cause, for logs.
    """

    status = 503

    def __init__(self, message: str, *, arxiv_id: str, detail: str = "") -> None:
        super().__init__(message)
        self.arxiv_id = arxiv_id
        self.detail = detail


def today_utc() -> dt.date:
    return utcnow().date()


def _arxiv_id(ref: str) -> str:
    try:
        return normalize_id(ref)[0]
    except ArxivInvalidId as exc:
        raise Invalid("enter an arXiv id such as 2401.01234 or an arxiv.org/abs/… link") from exc


def _check_org(db: Session, user: User, organization_id: int | None) -> None:
    if organization_id is None:
        return
    if orgs_admin.role_in(db=db, org_id=organization_id, user_id=user.id) is None:
        raise Forbidden("you can only submit for organizations you belong to")


def _refuse_if_featured(db: Session, paper_id: int) -> None:
    row = db.execute(select(Paper.key, DailyEntry.day, DailyEntry.estimated)
                     .join(DailyEntry, DailyEntry.paper_id == Paper.id).where(Paper.id == paper_id)).first()
    if row is None:
        return
    key, day, estimated = row
    if estimated:
        # Only a seed card's guessed day: a member's submission is a real featured day and wins.
        db.execute(delete(DailyEntry).where(DailyEntry.paper_id == paper_id, DailyEntry.estimated))
        return
    raise Conflict(f"this paper was already featured on {day.isoformat()}", link=f"/papers/{key}")


def _feature(db: Session, paper_id: int, user: User, organization_id: int | None,
             day: dt.date) -> DailyEntry:
    _refuse_if_featured(db, paper_id)
    key = db.scalar(select(Paper.key).where(Paper.id == paper_id))
    entry = DailyEntry(paper_id=paper_id, day=day, submitted_at=utcnow(),
                       submitted_by=user.shown_name, submitter_user_id=user.id,
                       organization_id=organization_id)
    db.add(entry)
    try:
        db.flush()
    except IntegrityError as exc:  # featured by a concurrent submission a moment ago
        raise Conflict("this paper was featured a moment ago", link=f"/papers/{key}") from exc
    return entry


def _store(db: Session, record: PaperRecord) -> int:
    """Upsert the paper (no daily entry) and return its id."""
    upsert_records(db=db, records=[replace(record, featured_on=None, upvotes=None, num_comments=None)])
    pid = db.scalar(select(Paper.id).where(Paper.key == record.public_key()))
    assert pid is not None
    return pid


def submit_paper(*, db: Session, arxiv: ArxivFetcher, user: User, ref: str,
                 organization_id: int | None = None, day: dt.date | None = None) -> DailyEntry:
    """Feature the paper named by ``ref`` (id or URL) on ``day`` (default: today, UTC).

    Raises ``Invalid`` (not an id), ``NotFound`` (arXiv has no such paper), ``Conflict`` (already
    featured; ``link`` points to it), ``Forbidden`` (not a member of the org) or
    ``SourceUnavailable`` (arXiv down).
    """
    arxiv_id = _arxiv_id(ref)
    with use_case(db):
        _check_org(db, user, organization_id)
        pid = db.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
        if pid is not None:
            _refuse_if_featured(db, pid)
    record = None
    if pid is None:  # asked with no transaction open: arXiv may take seconds
        try:
            record = arxiv.fetch_one(arxiv_id)
        except ArxivNotFound as exc:
            raise NotFound(f"arXiv has no paper {arxiv_id}") from exc
        except ArxivInvalidId as exc:
            raise Invalid(f"arXiv does not accept {arxiv_id!r} as an id") from exc
        except ArxivUnavailable as exc:
            raise SourceUnavailable("arXiv is not answering right now (it is down or slow).",
                                    arxiv_id=arxiv_id, detail=str(exc)) from exc
        except ArxivBadResponse as exc:
            raise SourceUnavailable("arXiv answered with something we could not read.",
                                    arxiv_id=arxiv_id, detail=str(exc)) from exc
    for attempt in (1, 2):
        try:
            with use_case(db):
                if record is not None:  # stored by a concurrent submission meanwhile?
                    pid = db.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
                    if pid is None:
                        pid = _store(db, record)
                assert pid is not None
                return _feature(db, pid, user, organization_id, day or today_utc())
        except IntegrityError:
            # A concurrent submission stored the same paper between our look-up and our insert:
            # the next round finds its row (and answers Conflict once it is featured).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def submit_manual(*, db: Session, user: User, ref: str, title: str, abstract: str,
                  authors: list[str], published_on: dt.date | None = None,
                  organization_id: int | None = None, day: dt.date | None = None) -> DailyEntry:
    """Curators only: feature a paper whose metadata they typed in (for when arXiv is down)."""
    if not user.is_curator:
        raise Forbidden("only curators can enter paper metadata by hand")
    arxiv_id = _arxiv_id(ref)
    _check_org(db, user, organization_id)
    title = " ".join(title.split())
    names = [" ".join(a.split()) for a in authors if a.strip()]
    if not title:
        raise Invalid("a paper needs a title")
    if len(title) > 1000 or len(abstract) > 20_000 or len(names) > 2000:
        raise Invalid("title, abstract or author list too long")
    pid = db.scalar(select(Paper.id).where(Paper.arxiv_id == arxiv_id))
    if pid is None:
        published = dt.datetime.combine(published_on, dt.time()) if published_on else None
        pid = _store(db, PaperRecord(arxiv_id=arxiv_id, title=title, abstract=abstract.strip(),
                                     authors=names, published_at=published))
    return _feature(db, pid, user, organization_id, day or today_utc())


def paper_key_for_entry(*, db: Session, entry: DailyEntry) -> str:
    key = db.scalar(select(Paper.key).where(Paper.id == entry.paper_id))
    if key is None:
        raise NotFound("the paper is gone")
    return key
