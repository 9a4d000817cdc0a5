"""``dailypapers sync arxiv``: new and updated papers of chosen categories from arXiv's OAI-PMH."""

from __future__ import annotations

import datetime as dt

import click
from rich.markup import escape

from dailypapers.cli.context import CliContext
from dailypapers.services.sync_arxiv import SyncFailed, sets_of, sync_arxiv
from dailypapers.sources.arxiv_oai import OaiPage
from dailypapers.sources.arxiv_oai_client import OaiClient
from dailypapers.store.base import utcnow


@click.command("arxiv")
@click.option("--category", "categories", multiple=True, metavar="CAT",
              help="An arXiv category to sync (cs.LG, hep-th, …); repeat for several. "
              "Default: DAILYPAPERS_SYNC_ARXIV_CATEGORIES.")
@click.option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Harvest records changed on or after this day (YYYY-MM-DD) instead of "
              "going on from the checkpoint.")
@click.pass_obj
def sync_arxiv_cmd(ctx: CliContext, categories: tuple[str, ...], date_from: dt.datetime | None) -> None:
    """New and updated papers of the chosen categories (OAI-PMH ListRecords, arXivRaw), page by
    page with the checkpoint in the database: a rerun after a failure or a kill goes on from the
    last stored page. Exits 1 if arXiv stays unavailable or a record was malformed."""
    settings = ctx.settings
    chosen = list(categories) or settings.categories(settings.sync_arxiv_categories)
    if not chosen:
        raise click.UsageError("name at least one --category (or set DAILYPAPERS_SYNC_ARXIV_CATEGORIES)")
    try:
        sets = sets_of(chosen)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    today = utcnow().date()
    with ctx.session() as db, OaiClient.from_settings(settings) as client, \
            ctx.progress("sync arxiv", None) as bar:
        tasks = {s: bar.add_task(f"sync arxiv {s}", total=None) for s in sets}

        def advance(set_spec: str, page: OaiPage) -> None:
            if page.complete_list_size:
                bar.update(tasks[set_spec], total=page.complete_list_size)
            bar.advance(tasks[set_spec], len(page.records) + len(page.rejected) + page.deleted)

        try:
            result = sync_arxiv(db=db, client=client, categories=chosen,
                                date_from=date_from.date() if date_from else None, today=today,
                                initial_days=settings.sync_arxiv_initial_days,
                                auto_feature=settings.categories(settings.auto_feature_categories),
                                progress=advance)
        except SyncFailed as exc:
            ctx.err.print(f"sync arxiv: failed: {exc}", highlight=False, markup=False)
            ctx.err.print(f"sync arxiv: kept {exc.result.summary()}; run again to resume",
                          highlight=False, markup=False)
            raise SystemExit(1) from None
    for bad in result.rejected:
        ctx.err.print(f"[red]rejected[/red] {escape(str(bad))}", markup=True, highlight=False)
    ctx.err.print(f"sync {result.summary()} ({client.requests} requests)", highlight=False, markup=False)
    if result.rejected:
        raise SystemExit(1)
