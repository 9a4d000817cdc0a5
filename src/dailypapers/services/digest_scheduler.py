"""The optional digest scheduler inside ``serve`` (``DAILYPAPERS_DIGEST_SCHEDULER=true``).

A ``scheduler.Ticker`` runs the same job as ``dailypapers digest send`` every
``digest_scheduler_minutes``. Several web workers (or a cron job as well) may each run one: the
outbox's claims make concurrent runs safe, so no leader election is needed. (The sync schedule,
``sync_schedule.py``, sends due digests after its syncs as well, through ``run_digests``.)
"""

from __future__ import annotations

import logging

from dailypapers.mail.session import session_from_settings
from dailypapers.services.outbox import RunSummary, send_digests
from dailypapers.services.scheduler import Ticker
from dailypapers.settings import Settings
from dailypapers.store.db import Database

log = logging.getLogger(__name__)


class DigestScheduler:
    def __init__(self, *, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.interval = settings.digest_scheduler_minutes * 60.0
        self._ticker = Ticker(name="digest-scheduler", interval=self.interval, job=self.run_once)
        self.runs = 0
        self.last: RunSummary | None = None

    @classmethod
    def start_if_enabled(cls, *, settings: Settings, database: Database) -> DigestScheduler | None:
        if not settings.digest_scheduler:
            return None
        scheduler = cls(settings=settings, database=database)
        scheduler._ticker.start()
        return scheduler

    def run_once(self) -> RunSummary:
        summary = run_digests(settings=self.settings, database=self.database)
        self.runs += 1
        self.last = summary
        return summary

    def stop(self, timeout: float = 30.0) -> None:
        self._ticker.stop(timeout)


def run_digests(*, settings: Settings, database: Database) -> RunSummary:
    """One ``digest send`` run on its own session, logged."""
    with database.session() as db:
        summary = send_digests(db=db, settings=settings, mail=session_from_settings(settings))
    if summary.error:
        log.warning("%s; %s", summary.line(), summary.error)
    elif summary.enqueued or summary.sent or summary.failed:
        log.info("%s", summary.line())
    return summary
