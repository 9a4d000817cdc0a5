"""Jobs that ``serve`` runs by itself on a daemon thread: the one ticking loop shared by the
digest scheduler (``digest_scheduler.py``) and the sync schedule (``sync_schedule.py``).

A failing run is logged and retried at the next tick; it never takes the web server down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticker:
    """Runs ``job`` now and then every ``interval`` seconds on a daemon thread until ``stop``."""

    def __init__(self, *, name: str, interval: float, job: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self._job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._job()
            except Exception:  # noqa: BLE001 - one bad run must not end the schedule
                log.exception("%s: run failed; retrying at the next tick", self.name)
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
