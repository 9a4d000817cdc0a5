"""What every command needs: the settings and, built on first use, the migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from dailypapers.store.db import Database


class CliContext:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Database | None = None
        self.err = Console(stderr=True)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings()
            except ValidationError as exc:
                raise click.ClickException(f"invalid settings: {exc}") from exc
        return self._settings

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
        """A progress bar on stderr (so ``export`` can write to stdout)."""
        return Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=self.err, transient=False, disable=total is not None and total < 200,
        )
