"""``dailypapers search``, ``dailypapers embed`` and ``dailypapers index rebuild``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dailypapers.cli.context import CliContext
from dailypapers.search.bundle import load_bundle, write_bundle
from dailypapers.search.embedder import count_candidates, embed_pending
from dailypapers.search.engine import SearchEngine
from dailypapers.search.sentence_vectors import count_sentence_candidates, embed_sentences_pending
from dailypapers.services.exports import count_papers
from dailypapers.services.search import MODES, SORTS, SearchError, SearchFilters, SearchRequest, search_papers


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100), help="Results to show.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 1000), help="Page of results.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True, help="Order of results.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True,
              help="hybrid = keywords and meaning fused; keyword = BM25 only; semantic = meaning only.")
@click.option("--published-from", callback=_date, help="Only papers published on or after this date.")
@click.option("--published-to", callback=_date, help="Only papers published on or before this date.")
@click.option("--featured-from", callback=_date, help="Only papers featured on or after this day.")
@click.option("--featured-to", callback=_date, help="Only papers featured on or before this day.")
@click.option("--org", "organization", help="Only papers submitted for this organization (handle).")
@click.option("--has-code/--no-code", default=None, help="Only papers with (or without) a code repository.")
@click.option("--min-upvotes", type=click.IntRange(0), help="Only papers with at least this many upvotes.")
@click.pass_obj
def search_cmd(ctx: CliContext, /, query: str, limit: int, page: int, sort: str, mode: str,
               **filters: object) -> None:
    """Search papers by keywords and meaning, and print a table of results."""
    request = SearchRequest(q=query, filters=SearchFilters(**filters),  # type: ignore[arg-type]
                            sort=sort, mode=mode, page=page, per_page=limit)  # type: ignore[arg-type]
    engine = SearchEngine(ctx.settings)
    with ctx.session() as session:
        try:
            result = search_papers(db=session, engine=engine, request=request)
        except SearchError as exc:
            raise click.UsageError(str(exc)) from exc
    table = Table(title=f"{result.total} results for {query!r}" if query else f"{result.total} papers",
                  show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("id")
    table.add_column("title", overflow="fold")
    table.add_column("published")
    table.add_column("▲", justify="right")
    first = (page - 1) * limit
    for n, hit in enumerate(result.hits, start=first + 1):
        card = hit.card
        published = card.published_at.date().isoformat() if card.published_at else ""
        table.add_row(str(n) + ("*" if hit.pinned else ""), card.arxiv_id or card.key, card.title,
                      published, str(card.upvotes))
    Console().print(table)
    if result.notice:
        ctx.err.print(result.notice)


@click.command("embed")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=None,
              help="Papers per batch and transaction (default: DAILYPAPERS_SEARCH_EMBED_BATCH_SIZE).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Embed at most this many papers now.")
@click.option("--export-bundle", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Afterwards, write all current vectors as a bundle (npy + JSON) into this folder.")
@click.pass_obj
def embed_cmd(ctx: CliContext, batch_size: int | None, limit: int | None, export_bundle: Path | None) -> None:
    """Compute missing or stale paper vectors (resumable: stop any time, run again to go on)."""
    settings = ctx.settings
    engine = SearchEngine(settings)
    model = settings.search_embedding_model
    bundled, _ = load_bundle(model)
    with ctx.session() as session:
        total = count_candidates(db=session, model=model)
        if limit is not None:
            total = min(total, limit)
        with ctx.progress("embedding", total) as bar:
            task = bar.add_task(f"embedding ({model})", total=total)
            result = embed_pending(db=session, provider=engine.provider,
                                   batch_size=batch_size or settings.search_embed_batch_size,
                                   limit=limit, bundled=bundled, progress=lambda n: bar.advance(task, n))
        ctx.err.print(f"embed: {result.summary()}", highlight=False)
        if settings.search_sentences:
            todo = count_sentence_candidates(db=session, model=model)
            todo = min(todo, limit) if limit is not None else todo
            with ctx.progress("embedding sentences", todo) as bar:
                task = bar.add_task(f"sentences ({model})", total=todo)
                done = embed_sentences_pending(db=session, provider=engine.provider,
                                               batch_size=batch_size or settings.search_embed_batch_size,
                                               limit=limit, progress=lambda n: bar.advance(task, n))
            ctx.err.print(f"sentences: {done.embedded} papers embedded, {done.unchanged} unchanged",
                          highlight=False)
        ctx.err.print(f"vector index: {engine.rebuild_vectors(session)}", highlight=False)
        if export_bundle is not None:
            written = write_bundle(db=session, model=model, folder=export_bundle)
            ctx.err.print(f"bundle: {written} vectors written to {export_bundle}", highlight=False)


@click.group("index")
def index_group() -> None:
    """Search index maintenance (indexes live under DAILYPAPERS_DATA_DIR and follow the database)."""


@index_group.command("rebuild")
@click.option("--keyword/--no-keyword", default=True, show_default=True, help="Rebuild the BM25 index.")
@click.option("--vectors/--no-vectors", default=True, show_default=True, help="Rebuild the vector index.")
@click.pass_obj
def rebuild_cmd(ctx: CliContext, keyword: bool, vectors: bool) -> None:
    """Rebuild the search indexes from the database (it stays searchable meanwhile)."""
    engine = SearchEngine(ctx.settings)
    with ctx.session() as session:
        if keyword:
            total = count_papers(db=session)
            with ctx.progress("indexing", total) as bar:
                task = bar.add_task("keyword index", total=total)
                count = engine.keyword.rebuild(session, progress=lambda n: bar.advance(task, n))
            ctx.err.print(f"keyword index: {count} papers", highlight=False)
        if vectors and ctx.settings.search_semantic:
            ctx.err.print(f"vector index: {engine.rebuild_vectors(session)}", highlight=False)


def catch_up_after_import(ctx: CliContext) -> None:
    """Index what an import just committed, so the first search after it does not have to."""
    with ctx.session() as session:
        SearchEngine(ctx.settings).keyword.catch_up(session)
