"""``dailypapers sync …``: pull new papers from upstream sources, and show where each sync is."""

from __future__ import annotations

import datetime as dt

import click
from rich.markup import escape

from dailypapers.cli.context import CliContext
from dailypapers.cli.sync_arxiv import sync_arxiv_cmd
from dailypapers.services import sync_state
from dailypapers.services.sync_hf import (
    DateRangeError,
    SyncFailed,
    days_to_sync,
    sync_hf,
)
from dailypapers.services.sync_schedule import next_runs
from dailypapers.sources.hf_client import HfClient
from dailypapers.store.base import utcnow

DAY = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


@click.group("sync")
def sync_group() -> None:
    """Pull papers from upstream sources (resumable: a rerun after a crash goes on where it stopped)."""


sync_group.add_command(sync_arxiv_cmd)


@sync_group.command("hf")
@click.option("--date", "date", type=DAY, default=None, help="Sync this one day (YYYY-MM-DD).")
@click.option("--from", "date_from", type=DAY, default=None,
              help="First day of a range (YYYY-MM-DD); --to defaults to today.")
@click.option("--to", "date_to", type=DAY, default=None, help="Last day of a range (YYYY-MM-DD).")
@click.pass_obj
def sync_hf_cmd(ctx: CliContext, date: dt.datetime | None, date_from: dt.datetime | None,
                date_to: dt.datetime | None) -> None:
    """Read the daily papers of DAILYPAPERS_HF_ENDPOINT (Hugging Face, or another dailypapers
    instance) for each day; without dates, from the last synced day to today plus the last
    DAILYPAPERS_SYNC_HF_REFRESH_DAYS days. Exits 1 if the endpoint fails (days done so far stay)
    or an item was malformed (it is skipped, the rest is kept)."""
    settings = ctx.settings
    with ctx.session() as db:
        try:
            days = days_to_sync(db=db, today=utcnow().date(), refresh_days=settings.sync_hf_refresh_days,
                                date=_day(date), date_from=_day(date_from), date_to=_day(date_to))
        except DateRangeError as exc:
            raise click.UsageError(str(exc)) from exc
        with HfClient.from_settings(settings) as client, ctx.progress("sync hf", len(days)) as bar:
            task = bar.add_task(f"sync hf ({client.endpoint})", total=len(days))
            try:
                result = sync_hf(db=db, client=client, days=days, batch_size=settings.import_batch_size,
                                 progress=lambda day, n: bar.advance(task))
            except SyncFailed as exc:
                done = exc.result
                ctx.err.print(f"sync hf: failed at {exc}", highlight=False, markup=False)
                ctx.err.print(f"sync hf: kept {done.summary()}; run again to resume",
                              highlight=False, markup=False)
                raise SystemExit(1) from None
    for bad in result.rejected:
        ctx.err.print(f"[red]rejected[/red] {escape(str(bad))}", markup=True, highlight=False)
    ctx.err.print(f"sync {result.summary()}", highlight=False, markup=False)
    if result.rejected:
        raise SystemExit(1)


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


@sync_group.command("status")
@click.pass_obj
def sync_status_cmd(ctx: CliContext) -> None:
    """Each source's checkpoint, last run, next scheduled run, counts and last error."""
    settings = ctx.settings
    now = utcnow()
    with ctx.session() as db:
        rows = sync_state.statuses(db=db)
        upcoming = next_runs(db=db, settings=settings, now=now)
    if not rows and not upcoming:
        click.echo("no sync has run yet")
    for row in rows:
        click.echo(f"{row.source}")
        click.echo(f"  checkpoint:   {row.cursor or '-'}")
        state = " (running, or it stopped before finishing)" if row.running_or_failed else ""
        click.echo(f"  last run:     {_when(row.last_started_at)}{state}  ({row.runs} runs)")
        click.echo(f"  last success: {_when(row.last_success_at)}")
        if row.counts:
            click.echo("  counts:       " + ", ".join(f"{k} {v}" for k, v in row.counts.items()))
        if row.last_error:
            click.echo(f"  last error:   {_when(row.last_error_at)}: {row.last_error}")
        if row.source in upcoming:
            click.echo(f"  next run:     {_when(upcoming[row.source])}")
    if not settings.sync_schedule:
        click.echo("no schedule (DAILYPAPERS_SYNC_SCHEDULE is unset): syncs run when cron or "
                   "a systemd timer runs them")
