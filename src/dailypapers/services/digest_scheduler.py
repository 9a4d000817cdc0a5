"""The optional digest scheduler inside ``serve`` (``DAILYPAPERS_DIGEST_SCHEDULER=true``).

A daemon thread runs the same job as ``dailypapers digest send`` every
``digest_scheduler_minutes``. Several web workers (or a cron job as well) may each run one: the
outbox's claims make concurrent runs safe, so no leader election is needed. A failing run is
logged and retried at the next tick; it never takes the web server down.
"""

from __future__ import annotations

import logging
import threading

from dailypapers.mail.session import session_from_settings
from dailypapers.services.outbox import RunSummary, send_digests
from dailypapers.settings import Settings
from dailypapers.store.db import Database

log = logging.getLogger(__name__)


class DigestScheduler:
    def __init__(self, *, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.interval = settings.digest_scheduler_minutes * 60.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="digest-scheduler", daemon=True)
        self.runs = 0
        self.last: RunSummary | None = None

    @classmethod
    def start_if_enabled(cls, *, settings: Settings, database: Database) -> DigestScheduler | None:
        if not settings.digest_scheduler:
            return None
        scheduler = cls(settings=settings, database=database)
        scheduler._thread.start()
        return scheduler

    def run_once(self) -> RunSummary:
        with self.database.session() as db:
            summary = send_digests(db=db, settings=self.settings,
                                   mail=session_from_settings(self.settings))
        self.runs += 1
        self.last = summary
        if summary.error:
            log.warning("%s; %s", summary.line(), summary.error)
        elif summary.enqueued or summary.sent or summary.failed:
            log.info("%s", summary.line())
        return summary

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - one bad run must not end the schedule
                log.exception("digest run failed; retrying at the next tick")
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
