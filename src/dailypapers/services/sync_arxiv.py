"""``sync arxiv``: new and updated papers of chosen categories, harvested from arXiv's OAI-PMH.

One harvest per OAI set (``cs`` for cs.LG and cs.CL, ``physics:hep-th`` for hep-th…): the first
page asks ``ListRecords(set, from)``, the next ones follow the ``resumptionToken``; records of
other categories of the set are dropped. Each page is one transaction holding its papers *and*
the checkpoint in ``sync_state`` (source ``arxiv:<set>``), so a crash or SIGKILL at any point
leaves the checkpoint exactly at the last stored page and a rerun goes on from the next one:
nothing missed, and nothing doubled (upserts are idempotent anyway). Why OAI-PMH rather than
the export API: docs/sync.md.

The checkpoint (``sync_state.cursor``) is ``next_from|harvest_from|started|token``:

- ``next_from``: where the next harvest starts (the day the last complete one began, so the
  day it ran is read again: OAI datestamps are days);
- ``harvest_from``, ``started``, ``token``: the harvest under way, if any (its ``from``, the
  day its first page was served, and the token of the next page to read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.services import sync_state
from dailypapers.services.catalog_import import upsert_records
from dailypapers.sources.arxiv_oai import OaiError, OaiPage, oai_set
from dailypapers.sources.arxiv_oai_client import OaiClient, OaiUnavailable
from dailypapers.sources.records import PaperRecord, Rejected
from dailypapers.store import DailyEntry, Paper
from dailypapers.store.bulk import matches

SOURCE_PREFIX = "arxiv:"
CURSOR_MAX = 200  # sync_state.cursor's width; a longer token is not kept (a resume redoes the harvest)


@dataclass(frozen=True)
class Checkpoint:
    next_from: dt.date | None = None
    harvest_from: dt.date | None = None
    started: dt.date | None = None
    token: str | None = None

    def encode(self) -> str:
        def day(value: dt.date | None) -> str:
            return value.isoformat() if value else ""

        text = f"{day(self.next_from)}|{day(self.harvest_from)}|{day(self.started)}|{self.token or ''}"
        if not self.token:  # a finished harvest reads "2026-11-23" in `sync status`
            text = text.rstrip("|")
        if len(text) > CURSOR_MAX:
            return replace(self, token=None).encode()
        return text

    @classmethod
    def decode(cls, text: str | None) -> Checkpoint:
        if not text:
            return cls()
        next_from, harvest_from, started, token = [*text.split("|", 3), "", "", ""][:4]

        def day(value: str) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None

        return cls(day(next_from), day(harvest_from), day(started), token or None)


@dataclass
class ArxivSyncResult:
    pages: int = 0
    fetched: int = 0  # records served (all categories of the set)
    kept: int = 0  # records of the chosen categories
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    featured: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"pages": self.pages, "fetched": self.fetched, "kept": self.kept,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "featured": self.featured, "rejected": len(self.rejected)}

    def summary(self) -> str:
        return (f"arxiv: {self.pages} pages, {self.fetched} records read, {self.kept} of the chosen "
                f"categories: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.featured} featured, {len(self.rejected)} rejected")


class SyncFailed(Exception):
    """arXiv could not be harvested to the end; what was stored before stays (with its checkpoint)."""

    def __init__(self, message: str, result: ArxivSyncResult) -> None:
        super().__init__(message)
        self.result = result


ProgressFn = Callable[[str, OaiPage], None]


def sets_of(categories: Sequence[str]) -> dict[str, list[str]]:
    """``{oai set: [categories]}`` in the order given; ``ValueError`` for a malformed category."""
    out: dict[str, list[str]] = {}
    for category in categories:
        out.setdefault(oai_set(category), []).append(category)
    return out


def _to_feature(db: Session, records: list[PaperRecord], *, categories: frozenset[str],
                since: dt.date) -> list[PaperRecord]:
    """Auto-featuring: records of papers new since ``since`` (v1 on or after it) whose primary
    category is one of ``categories`` and that no source has featured yet, featured on their v1 day."""
    new = [r for r in records if r.categories and r.categories[0] in categories
           and r.published_at is not None and r.published_at.date() >= since and r.arxiv_id]
    if not new:
        return records
    featured = set(db.scalars(select(Paper.arxiv_id).join(DailyEntry, DailyEntry.paper_id == Paper.id)
                              .where(matches(db, Paper.arxiv_id, [r.arxiv_id for r in new]))))
    chosen = {id(r) for r in new if r.arxiv_id not in featured}
    return [replace(r, featured_on=r.published_at.date(), submitted_at=r.published_at)
            if id(r) in chosen and r.published_at else r for r in records]


def _store_page(db: Session, *, source: str, page: OaiPage, wanted: frozenset[str],
                checkpoint: Checkpoint, auto_feature: frozenset[str], since: dt.date,
                result: ArxivSyncResult) -> None:
    """The page's papers and the checkpoint after it, in one transaction."""
    kept = [r for r in page.records if wanted.intersection(r.categories)]
    kept = _to_feature(db, kept, categories=auto_feature, since=since) if auto_feature else kept
    sync_state.advance(db=db, source=source, cursor=checkpoint.encode(), newest=False)
    # One batch for the whole page, so the checkpoint commits with all of its papers.
    part = upsert_records(db=db, records=kept, batch_size=len(kept) + 1)
    try:
        db.commit()
    except Exception:
        db.rollback()
        raise
    result.pages += 1
    result.fetched += len(page.records) + len(page.rejected) + page.deleted
    result.kept += len(kept)
    result.deleted += page.deleted
    result.featured += sum(1 for r in kept if r.featured_on is not None)
    result.created += part.created
    result.updated += part.updated
    result.unchanged += part.unchanged
    result.rejected += page.rejected


def _harvest(db: Session, *, client: OaiClient, set_spec: str, wanted: frozenset[str],
             date_from: dt.date | None, default_from: dt.date, today: dt.date,
             auto_feature: frozenset[str], result: ArxivSyncResult,
             progress: ProgressFn | None) -> None:
    source = SOURCE_PREFIX + set_spec
    saved = Checkpoint.decode(sync_state.get_cursor(db=db, source=source))
    sync_state.run_started(db=db, source=source)
    db.commit()
    if date_from is not None and date_from != saved.harvest_from:
        current = Checkpoint(next_from=saved.next_from, harvest_from=date_from)  # a new harvest
    elif saved.harvest_from is not None:
        current = saved  # resume the harvest under way (from its token, or from its start)
    else:
        current = Checkpoint(next_from=saved.next_from, harvest_from=saved.next_from or default_from)
    start = current.harvest_from or default_from
    restarted = False
    while True:
        try:
            page = client.list_records(set_spec=set_spec, date_from=start, token=current.token)
        except OaiError as exc:
            if exc.code == "badResumptionToken" and current.token and not restarted:
                # Tokens expire (hours): begin this harvest again from its start; upserts are idempotent.
                restarted = True
                current = replace(current, token=None, started=None)
                continue
            _fail(db, source, f"{set_spec}: {exc}", result)
        except OaiUnavailable as exc:
            _fail(db, source, f"{set_spec}: {exc}", result)
        started = current.started or (page.response_date.date() if page.response_date else today)
        after = (replace(current, started=started, token=page.token) if page.token
                 else Checkpoint(next_from=started))
        _store_page(db, source=source, page=page, wanted=wanted, checkpoint=after,
                    auto_feature=auto_feature, since=start, result=result)
        if progress is not None:
            progress(set_spec, page)
        current = after
        if page.token is None:
            break
    sync_state.run_finished(db=db, source=source, counts=result.counts())
    db.commit()


def _fail(db: Session, source: str, message: str, result: ArxivSyncResult) -> NoReturn:
    db.rollback()
    sync_state.run_failed(db=db, source=source, error=message, counts=result.counts())
    db.commit()
    raise SyncFailed(message, result)


def sync_arxiv(*, db: Session, client: OaiClient, categories: Sequence[str], date_from: dt.date | None,
               today: dt.date, initial_days: int, auto_feature: Sequence[str] = (),
               progress: ProgressFn | None = None) -> ArxivSyncResult:
    """Harvest the OAI sets of ``categories`` from ``date_from`` (or each set's checkpoint, or
    ``initial_days`` before ``today``), storing page by page. Raises ``SyncFailed`` when arXiv
    stays unavailable (after the client's retries) or answers with an OAI-PMH error; malformed
    records are skipped and listed in the result."""
    result = ArxivSyncResult()
    wanted = frozenset(categories)
    for set_spec in sets_of(categories):
        _harvest(db, client=client, set_spec=set_spec, wanted=wanted, date_from=date_from,
                 default_from=today - dt.timedelta(days=initial_days), today=today,
                 auto_feature=frozenset(auto_feature), result=result, progress=progress)
    return result
