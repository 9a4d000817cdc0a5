"""The sync schedule (``DAILYPAPERS_SYNC_SCHEDULE``): which period is due, when the next one is,
and the runner inside ``serve`` that runs each period once (``SyncScheduler``), which also
fetches the submissions kept while arXiv was unreachable (``submission_retry_seconds``).

The ``schedule`` row of ``sync_state`` holds the newest period (slot) whose run completed as its
cursor, and the lease of the process running it; the ``submissions`` row holds the lease and the
last run of the submission retry.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dailypapers.schedule import Schedule
from dailypapers.search.bundle import load_bundle
from dailypapers.search.embedder import embed_pending
from dailypapers.search.engine import SearchEngine
from dailypapers.services import sync_state
from dailypapers.services.digest_scheduler import run_digests
from dailypapers.services.pending_submissions import RetrySummary, retry_due
from dailypapers.services.scheduler import Ticker
from dailypapers.services.sync_arxiv import sync_arxiv
from dailypapers.services.sync_hf import days_to_sync, sync_hf
from dailypapers.settings import Settings
from dailypapers.sources.arxiv_client import ArxivClient
from dailypapers.sources.arxiv_oai_client import OaiClient
from dailypapers.sources.hf_client import HfClient
from dailypapers.store.base import utcnow
from dailypapers.store.db import Database

log = logging.getLogger(__name__)

SCHEDULE = "schedule"
SUBMISSIONS = "submissions"


def due_slot(*, db: Session, schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The current period's slot when its run has not completed yet, else ``None``."""
    slot = schedule.slot(now)
    done = sync_state.get_cursor(db=db, source=SCHEDULE)
    return slot if done is None or dt.datetime.fromisoformat(done) < slot else None


def next_runs(*, db: Session, settings: Settings, now: dt.datetime) -> dict[str, dt.datetime]:
    """When each scheduled source runs next (now, if its period is due); empty without a schedule."""
    if not settings.sync_schedule:
        return {}
    schedule = Schedule.parse(settings.sync_schedule)
    when = now if due_slot(db=db, schedule=schedule, now=now) else schedule.next_slot(now)
    return dict.fromkeys([*settings.sync_source_list, SCHEDULE], when)


# --- the runner inside ``serve`` ---------------------------------------------------------------

SourceSync = Callable[[Session, Settings], str]


def _sync_hf(db: Session, settings: Settings) -> str:
    days = days_to_sync(db=db, today=utcnow().date(), refresh_days=settings.sync_hf_refresh_days)
    with HfClient.from_settings(settings) as client:
        result = sync_hf(db=db, client=client, days=days, batch_size=settings.import_batch_size)
    for rejected in result.rejected:
        log.warning("sync hf: skipped %s", rejected)
    return result.summary()


def _sync_arxiv(db: Session, settings: Settings) -> str:
    categories = settings.categories(settings.sync_arxiv_categories)
    if not categories:
        raise ValueError("the arxiv source needs DAILYPAPERS_SYNC_ARXIV_CATEGORIES")
    with OaiClient.from_settings(settings) as client:
        result = sync_arxiv(db=db, client=client, categories=categories, date_from=None,
                            today=utcnow().date(), initial_days=settings.sync_arxiv_initial_days,
                            auto_feature=settings.categories(settings.auto_feature_categories))
    for rejected in result.rejected:
        log.warning("sync arxiv: skipped %s", rejected)
    return result.summary()


# Every source the schedule can run, by the name DAILYPAPERS_SYNC_SOURCES uses.
SOURCES: dict[str, SourceSync] = {"hf": _sync_hf, "arxiv": _sync_arxiv}


@dataclass
class PeriodRun:
    """What one scheduled period did."""

    slot: dt.datetime
    synced: dict[str, str] = field(default_factory=dict)  # source → summary or error
    embedded: str | None = None
    digests: str | None = None
    errors: list[str] = field(default_factory=list)


class SyncScheduler:
    """Runs each period of ``DAILYPAPERS_SYNC_SCHEDULE`` once across every process and host:
    the syncs, then embeddings of the new papers, then the due digests; and, every
    ``submission_retry_seconds``, the retry of kept submissions (with or without a schedule).

    Every web worker runs one on a ``Ticker``. A worker whose period is due takes the
    ``schedule`` lease in ``sync_state`` (one conditional UPDATE: one winner), checks again that
    the period is still due (another holder may have just finished it), runs it, renewing the
    lease between steps, then records the period as done and releases the lease in one
    transaction. A holder that dies leaves its lease to expire after ``sync_lease_seconds``;
    the period is then run again by another process (syncs and embeddings are idempotent and
    the outbox sends each digest once). The submission retry takes the ``submissions`` lease the
    same way, so one process at a time asks arXiv for them.
    """

    def __init__(self, *, settings: Settings, database: Database, engine: SearchEngine | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        if not settings.sync_schedule and settings.submission_retry_seconds <= 0:
            raise ValueError("neither DAILYPAPERS_SYNC_SCHEDULE nor DAILYPAPERS_SUBMISSION_RETRY_SECONDS is set")
        self.settings = settings
        self.database = database
        self.engine = engine
        self.schedule = Schedule.parse(settings.sync_schedule) if settings.sync_schedule else None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._clock = clock
        intervals = [float(settings.submission_retry_seconds)] if settings.submission_retry_seconds else []
        if self.schedule is not None:
            every = self.schedule.every.total_seconds() if self.schedule.every else 3600.0
            intervals.append(min(60.0, max(1.0, every / 10)))
        self._ticker = Ticker(name="sync-scheduler", interval=min(intervals), job=self.tick)
        # The first retry waits one interval, as cron would: starting a worker touches nothing.
        self._next_retry = clock() + dt.timedelta(seconds=settings.submission_retry_seconds)
        self.periods: list[PeriodRun] = []

    @classmethod
    def start_if_enabled(cls, *, settings: Settings, database: Database,
                         engine: SearchEngine | None = None) -> SyncScheduler | None:
        if not settings.sync_schedule and settings.submission_retry_seconds <= 0:
            return None
        scheduler = cls(settings=settings, database=database, engine=engine)
        scheduler._ticker.start()
        return scheduler

    def stop(self, timeout: float = 30.0) -> None:
        self._ticker.stop(timeout)

    def tick(self) -> None:
        """One turn of the runner: the period if one is due, then the submission retry if due."""
        if self.schedule is not None:
            self.run_due()
        self.retry_submissions()

    def retry_submissions(self) -> RetrySummary | None:
        """Fetch the kept submissions whose time has come, unless this runner did it less than
        ``submission_retry_seconds`` ago or another process holds the ``submissions`` lease."""
        every = self.settings.submission_retry_seconds
        now = self._clock()
        if every <= 0 or now < self._next_retry:
            return None
        self._next_retry = now + dt.timedelta(seconds=every)
        with self.database.session() as db:
            taken = sync_state.try_lease(db=db, source=SUBMISSIONS, holder=self.holder,
                                         seconds=self.settings.sync_lease_seconds, now=now)
            db.commit()
            if not taken:
                return None
            try:
                with ArxivClient.from_settings(self.settings) as arxiv:
                    summary = retry_due(db=db, arxiv=arxiv, now=now)
                counts = {"featured": summary.done, "failed": summary.failed,
                          "waiting": summary.waiting}
                sync_state.run_started(db=db, source=SUBMISSIONS, now=now)
                sync_state.run_finished(db=db, source=SUBMISSIONS, counts=counts, now=self._clock())
                db.commit()
            finally:
                db.rollback()  # whatever a failed attempt left; the retry committed its own work
                sync_state.release_lease(db=db, source=SUBMISSIONS, holder=self.holder)
                db.commit()
        if summary.done or summary.failed or summary.waiting:
            log.info("%s", summary.line())
        return summary

    def _lease(self, db: Session) -> bool:
        taken = sync_state.try_lease(db=db, source=SCHEDULE, holder=self.holder,
                                     seconds=self.settings.sync_lease_seconds, now=self._clock())
        db.commit()
        return taken

    def run_due(self) -> PeriodRun | None:
        """Run the current period if it is due and no other process is running it."""
        if self.schedule is None:
            return None
        with self.database.session() as db:
            if due_slot(db=db, schedule=self.schedule, now=self._clock()) is None:
                return None
            if not self._lease(db):
                return None
            slot = due_slot(db=db, schedule=self.schedule, now=self._clock())
            if slot is None:  # finished by another process between the two reads
                sync_state.release_lease(db=db, source=SCHEDULE, holder=self.holder)
                db.commit()
                return None
            run = self._run_period(db, slot)
        self.periods.append(run)
        return run

    def _run_period(self, db: Session, slot: dt.datetime) -> PeriodRun:
        run = PeriodRun(slot=slot)
        log.info("sync schedule: running the period of %s", slot)
        sync_state.run_started(db=db, source=SCHEDULE, now=self._clock())
        db.commit()
        for name in self.settings.sync_source_list:
            source = SOURCES.get(name)
            try:
                if source is None:
                    raise ValueError(f"unknown sync source {name!r} (known: {', '.join(SOURCES)})")
                run.synced[name] = source(db, self.settings)
                log.info("sync schedule: %s", run.synced[name])
            except Exception as exc:  # noqa: BLE001 - one failing source must not stop the others
                db.rollback()
                run.synced[name] = f"failed: {exc}"
                run.errors.append(f"{name}: {exc}")
                log.error("sync schedule: %s failed: %s", name, exc)
        if not self._lease(db):
            run.errors.append("lost the lease; another process took the period over")
            return run
        run.embedded = self._embed(db)
        if not self._lease(db):
            run.errors.append("lost the lease; another process took the period over")
            return run
        summary = run_digests(settings=self.settings, database=self.database)
        run.digests = summary.line()
        if summary.error:
            run.errors.append(f"digests: {summary.error}")
        counts = {"slot": slot.isoformat(), "sources": len(run.synced), "errors": len(run.errors)}
        sync_state.advance(db=db, source=SCHEDULE, cursor=slot.isoformat())
        if run.errors:
            sync_state.run_failed(db=db, source=SCHEDULE, error="; ".join(run.errors), counts=counts,
                                  now=self._clock())
        else:
            sync_state.run_finished(db=db, source=SCHEDULE, counts=counts, now=self._clock())
        sync_state.release_lease(db=db, source=SCHEDULE, holder=self.holder)
        db.commit()
        log.info("sync schedule: period of %s done (%s)", slot, "; ".join(run.errors) or "no errors")
        return run

    def _embed(self, db: Session) -> str:
        """Vectors for the papers the syncs brought (in this worker's background thread: no page
        or import waits for it)."""
        if self.engine is None or not self.engine.semantic:
            return "skipped (search by meaning is off)"
        try:
            bundled, _ = load_bundle(self.engine.model)
            result = embed_pending(db=db, provider=self.engine.provider,
                                   batch_size=self.settings.search_embed_batch_size, bundled=bundled)
        except Exception as exc:  # noqa: BLE001 - digests still go out without new vectors
            db.rollback()
            log.error("sync schedule: embedding failed: %s", exc)
            return f"failed: {exc}"
        log.info("sync schedule: embed: %s", result.summary())
        return result.summary()
