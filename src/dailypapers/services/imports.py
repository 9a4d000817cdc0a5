"""Importers: read files of each supported format and upsert them into the catalog.

Each importer parses every entry it can, reports each malformed one (file, line, reason) and
imports the rest; the CLI exits non-zero when anything was rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from dailypapers.services.catalog import ImportResult, ProgressFn, import_records
from dailypapers.sources.arxiv import parse_arxiv_feed
from dailypapers.sources.hf_json import parse_hf_item
from dailypapers.sources.jsonl import parse_jsonl_line
from dailypapers.sources.records import PaperRecord, RecordError, Rejected
from dailypapers.sources.seeds import parse_seed_page


def _run(db: Session, records: Iterable[PaperRecord], rejected: list[Rejected], batch_size: int,
         progress: ProgressFn | None) -> ImportResult:
    result = import_records(db=db, records=records, batch_size=batch_size, progress=progress)
    result.rejected = rejected + result.rejected
    return result


def count_jsonl_lines(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        with open(path, "rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


def iter_jsonl(paths: Iterable[Path], rejected: list[Rejected]) -> Iterator[PaperRecord]:
    for path in paths:
        with open(path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield parse_jsonl_line(line)
                except RecordError as exc:
                    rejected.append(Rejected(str(path), number, str(exc)))


def import_jsonl(*, db: Session, paths: list[Path], batch_size: int = 1000,
                 progress: ProgressFn | None = None) -> ImportResult:
    rejected: list[Rejected] = []
    return _run(db, iter_jsonl(paths, rejected), rejected, batch_size, progress)


def parse_seed_files(paths: list[Path], *, year: int) -> tuple[list[PaperRecord], list[Rejected]]:
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    for path in paths:
        got, bad = parse_seed_page(path.read_text(encoding="utf-8"), year=year, source=str(path))
        records += got
        rejected += bad
    return records, rejected


def import_seeds(*, db: Session, paths: list[Path], year: int, batch_size: int = 1000,
                 progress: ProgressFn | None = None) -> ImportResult:
    records, rejected = parse_seed_files(paths, year=year)
    return _run(db, records, rejected, batch_size, progress)


def parse_hf_json_files(paths: list[Path]) -> tuple[list[PaperRecord], list[Rejected]]:
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            rejected.append(Rejected(str(path), getattr(exc, "lineno", 0), f"not valid JSON: {exc}"))
            continue
        items = data if isinstance(data, list) else None
        if items is None:
            rejected.append(Rejected(str(path), 1, "expected a JSON list of daily-paper items"))
            continue
        for index, item in enumerate(items, 1):
            try:
                records.append(parse_hf_item(item))
            except RecordError as exc:
                rejected.append(Rejected(str(path), index, f"item {index}: {exc}"))
    return records, rejected


def import_hf_json(*, db: Session, paths: list[Path], batch_size: int = 1000,
                   progress: ProgressFn | None = None) -> ImportResult:
    records, rejected = parse_hf_json_files(paths)
    return _run(db, records, rejected, batch_size, progress)


def parse_arxiv_files(paths: list[Path]) -> tuple[list[PaperRecord], list[Rejected]]:
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    for path in paths:
        got, bad = parse_arxiv_feed(path.read_bytes(), source=str(path))
        records += got
        rejected += bad
    return records, rejected


def import_arxiv(*, db: Session, paths: list[Path], batch_size: int = 1000,
                 progress: ProgressFn | None = None) -> ImportResult:
    records, rejected = parse_arxiv_files(paths)
    return _run(db, records, rejected, batch_size, progress)
