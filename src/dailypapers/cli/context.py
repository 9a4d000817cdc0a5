"""What every command needs: the settings and, built on first use, the migrated database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from dailypapers.store.db import Database


class CliContext:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Database | None = None
        # soft_wrap: "file:line: reason" reports stay one line each, however long, for grep and logs.
        self.err = Console(stderr=True, soft_wrap=True)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings()
            except ValidationError as exc:
                raise click.ClickException(f"invalid settings: {exc}") from exc
        return self._settings

    def reload_settings(self) -> Settings:
        """Read the settings again (after a command changed the environment its children read)."""
        self._settings = None
        return self.settings

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
            self._db.migrate()
        return self._db

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session() as session:
            yield session

    def progress(self, description: str, total: int | None) -> Progress:
        """A progress display on stderr (so ``export`` can write to stdout); see ``CommandProgress``.

        ``description`` and ``total`` are for the caller's ``add_task``; they are accepted here so
        every command builds its display the same way.
        """
        return CommandProgress(console=self.err)


class CommandProgress(Progress):
    """A rich ``Progress`` for long commands, used like one (``add_task``, ``advance``, ``update``).

    Nothing is shown for work that finishes within ``delay`` seconds. After that, on a terminal
    the usual live bar appears; without one (a log file, CI, cron) the bar cannot redraw, so a plain
    line per task (``importing JSON Lines: 5,000/11,027 (45%)``) is printed every ``every`` seconds
    and once more at the end.
    """

    def __init__(self, *, console: Console, delay: float = 1.0, every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                         TimeRemainingColumn(), console=console, transient=False)
        self._delay, self._every, self._clock = delay, every, clock
        self._began: float | None = None
        self._live_shown = False
        self._last_line: float | None = None

    def start(self) -> None:
        self._began = self._clock()

    def stop(self) -> None:
        if self._live_shown:
            super().stop()
        elif self._last_line is not None:
            self._print_lines()

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._tick()

    def update(self, task_id: TaskID, **kwargs: Any) -> None:
        super().update(task_id, **kwargs)
        self._tick()

    def _tick(self) -> None:
        if self._began is None or self._live_shown:
            return
        now = self._clock()
        if now - self._began < self._delay:
            return
        if self.console.is_terminal:
            self._live_shown = True
            super().start()
        elif self._last_line is None or now - self._last_line >= self._every:
            self._last_line = now
            self._print_lines()

    def _print_lines(self) -> None:
        for task in self.tasks:
            done = int(task.completed)
            if task.total:
                line = f"{task.description}: {done:,}/{int(task.total):,} ({100 * done // int(task.total)}%)"
            else:
                line = f"{task.description}: {done:,}"
            self.console.print(line, highlight=False, markup=False, soft_wrap=True)
