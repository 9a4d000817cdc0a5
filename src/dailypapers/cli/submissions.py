"""``dailypapers submissions retry``: fetch the submissions kept while arXiv was unreachable."""

from __future__ import annotations

import click

from dailypapers.cli.context import CliContext
from dailypapers.services import pending_submissions
from dailypapers.sources.arxiv_client import ArxivClient


@click.group("submissions")
def submissions_group() -> None:
    """Member submissions kept for later when arXiv could not be reached."""


@submissions_group.command("retry")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="At most this many submissions in one run.")
@click.pass_obj
def retry_cmd(ctx: CliContext, limit: int) -> None:
    """Fetch the kept submissions whose next attempt is due and feature them on the day they were
    submitted. `serve` does the same every submission_retry_seconds; safe to run alongside it."""
    with ctx.session() as db, ArxivClient.from_settings(ctx.settings) as arxiv:
        summary = pending_submissions.retry_due(db=db, arxiv=arxiv, limit=limit)
    click.echo(summary.line())
