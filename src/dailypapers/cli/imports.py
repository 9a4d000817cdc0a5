"""``dailypapers import …`` and ``dailypapers export``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.markup import escape

from dailypapers.cli.context import CliContext
from dailypapers.services import imports as svc
from dailypapers.services.catalog import ImportResult
from dailypapers.services.exports import count_papers, iter_records
from dailypapers.sources.jsonl import record_to_json
from dailypapers.sources.records import PaperRecord, Rejected

PATHS = click.argument("paths", nargs=-1, required=True,
                       type=click.Path(exists=True, dir_okay=False, path_type=Path))


def _report(ctx: CliContext, result: ImportResult) -> None:
    for bad in result.rejected:
        ctx.err.print(f"[red]rejected[/red] {escape(str(bad))}", markup=True, highlight=False)
    ctx.err.print(f"import: {result.summary()}", highlight=False)
    if result.rejected:
        raise SystemExit(1)


def _import(ctx: CliContext, label: str, total: int, run: Callable[..., ImportResult]) -> None:
    with ctx.progress(f"importing {label}", total) as bar, ctx.session() as session:
        task = bar.add_task(f"importing {label}", total=total)
        result = run(db=session, batch_size=ctx.settings.import_batch_size,
                     progress=lambda n: bar.advance(task, n))
        bar.update(task, completed=total)  # rejected entries were read too
    _report(ctx, result)


def _import_parsed(ctx: CliContext, label: str, records: list[PaperRecord],
                   rejected: list[Rejected]) -> None:
    """Import what a file parser already read (each file is parsed once)."""
    _import(ctx, label, len(records),
            lambda **kw: svc.import_parsed(records=records, rejected=rejected, **kw))


@click.group("import")
def import_group() -> None:
    """Import papers from files; a second run of the same files changes nothing."""


@import_group.command("seeds")
@PATHS
@click.option("--year", type=int, default=None,
              help="Year of dates printed without one (default: the current year).")
@click.pass_obj
def import_seeds_cmd(ctx: CliContext, paths: tuple[Path, ...], year: int | None) -> None:
    """Import Daily Papers page text (the format of the seed pages)."""
    import datetime as dt

    year = year or dt.date.today().year
    _import_parsed(ctx, "seed pages", *svc.parse_seed_files(list(paths), year=year))


@import_group.command("hf-json")
@PATHS
@click.pass_obj
def import_hf_json_cmd(ctx: CliContext, paths: tuple[Path, ...]) -> None:
    """Import saved responses of Hugging Face's /api/daily_papers."""
    _import_parsed(ctx, "HF daily papers", *svc.parse_hf_json_files(list(paths)))


@import_group.command("arxiv")
@PATHS
@click.pass_obj
def import_arxiv_cmd(ctx: CliContext, paths: tuple[Path, ...]) -> None:
    """Import saved responses of the arXiv export API (Atom)."""
    _import_parsed(ctx, "arXiv entries", *svc.parse_arxiv_files(list(paths)))


@import_group.command("arxiv-snapshot")
@PATHS
@click.pass_obj
def import_arxiv_snapshot_cmd(ctx: CliContext, paths: tuple[Path, ...]) -> None:
    """Import the arXiv metadata snapshot (JSON Lines, plain or .gz), streaming."""
    _import(ctx, "arXiv snapshot (bytes)", sum(p.stat().st_size for p in paths),
            lambda **kw: svc.import_arxiv_snapshot(paths=list(paths), **kw))


@import_group.command("jsonl")
@PATHS
@click.pass_obj
def import_jsonl_cmd(ctx: CliContext, paths: tuple[Path, ...]) -> None:
    """Import JSON Lines (our export format, and the shared HF dataset)."""
    _import(ctx, "JSON Lines", svc.count_jsonl_lines(paths),
            lambda **kw: svc.import_jsonl(paths=list(paths), **kw))


@click.command("export")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def export_cmd(ctx: CliContext, path: Path | None) -> None:
    """Write every paper as JSON Lines to PATH (default: standard output)."""
    out = open(path, "wb") if path else sys.stdout.buffer  # noqa: SIM115
    try:
        with ctx.session() as session:
            total = count_papers(db=session)
            with ctx.progress("exporting", total) as bar:
                task = bar.add_task("exporting", total=total)
                for record in iter_records(db=session):
                    out.write(record_to_json(record) + b"\n")
                    bar.advance(task)
    finally:
        if path:
            out.close()
        else:
            out.flush()
