"""The loop inside ``serve`` that fetches submissions kept while arXiv was unreachable.

A daemon thread runs ``pending_submissions.retry_due`` every ``submission_retry_seconds`` (0
turns it off). Several web workers may each run one: rows are claimed before they are fetched,
so concurrent runs never fetch the same submission. A failing run is logged and retried at the
next tick; it never takes the web server down.
"""

from __future__ import annotations

import logging
import threading

from dailypapers.services.pending_submissions import RetrySummary, retry_due
from dailypapers.settings import Settings
from dailypapers.sources.arxiv_client import ArxivClient
from dailypapers.store.db import Database

log = logging.getLogger(__name__)


class SubmissionRetrier:
    def __init__(self, *, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="submission-retry", daemon=True)

    @classmethod
    def start_if_enabled(cls, *, settings: Settings, database: Database) -> SubmissionRetrier | None:
        if settings.submission_retry_seconds <= 0:
            return None
        retrier = cls(settings=settings, database=database)
        retrier._thread.start()
        return retrier

    def run_once(self) -> RetrySummary:
        with self.database.session() as db, ArxivClient.from_settings(self.settings) as arxiv:
            summary = retry_due(db=db, arxiv=arxiv)
        if summary.done or summary.failed or summary.waiting:
            log.info("%s", summary.line())
        return summary

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.submission_retry_seconds):
            try:
                self.run_once()
            except Exception:
                log.exception("submission retry failed; trying again at the next tick")

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
