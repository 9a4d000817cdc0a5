"""``dailypapers db …``: database maintenance (migrate, and copy between SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import TaskID
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from dailypapers.cli.context import CliContext
from dailypapers.services.dbcopy import CopyError, copy_database
from dailypapers.store.db import Database, normalize_url


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("migrate")
@click.pass_obj
def migrate_cmd(ctx: CliContext) -> None:
    """Apply every pending migration (serve does this too)."""
    ctx.db.migrate()
    ctx.err.print("database is up to date")


def _open(url: str, *, must_exist: bool) -> Database:
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        raise click.BadParameter(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise click.BadParameter(f"only sqlite:/// and postgresql:// URLs are supported, not {url!r}")
    if must_exist and parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in {"", ":memory:"} or not Path(path).is_file():
            raise click.BadParameter(f"no SQLite database file at {path or url!r}")
    return Database(url)


@db_group.command("copy")
@click.option("--from", "source_url", required=True, metavar="URL",
              help="Database to read, e.g. sqlite:///dailypapers.db (not modified).")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="Database to fill, e.g. postgresql://user@host/dailypapers (migrated first).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per INSERT batch.")
@click.option("--replace", is_flag=True, help="Delete the target's rows first instead of refusing.")
@click.pass_obj
def copy_cmd(ctx: CliContext, source_url: str, target_url: str, batch_size: int, replace: bool) -> None:
    """Copy every table from one database to another, then verify the row counts.

    Stop every writer (serve, workers) first. The target is migrated to the newest schema; the
    source must already be at it. Search indexes are not copied: rebuild them on the target.
    """
    if normalize_url(source_url) == normalize_url(target_url):
        raise click.BadParameter("--from and --to are the same database")
    source = _open(source_url, must_exist=True)
    target = _open(target_url, must_exist=False)
    progress = ctx.progress("copying", total=None)
    tasks: dict[str, TaskID] = {}

    def advance(table: str, done: int, total: int) -> None:
        if table not in tasks:
            tasks[table] = progress.add_task(table, total=total)
        progress.update(tasks[table], completed=done)

    try:
        target.migrate()
        with progress, source.session() as src, target.session() as dst:
            report = copy_database(source=src, target=dst, batch_size=batch_size, replace=replace,
                                   progress=advance)
    except CopyError as exc:
        raise click.ClickException(str(exc)) from exc
    except OperationalError as exc:
        raise click.ClickException(f"cannot use the database: {exc.orig}") from exc
    finally:
        source.dispose()
        target.dispose()
    for count in report.tables:
        ctx.err.print(f"{count.table}: {count.target} rows")
    if report.not_copied:
        ctx.err.print("not copied (no model; rebuild on the target): " + ", ".join(report.not_copied))
    ctx.err.print(f"copied {report.rows} rows in {len(report.tables)} tables; counts verified")
