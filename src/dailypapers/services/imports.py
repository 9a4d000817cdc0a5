"""Importers: read files of each supported format and upsert them into the catalog.

Each importer parses every entry it can, reports each malformed one (file, line, reason) and
imports the rest; the CLI exits non-zero when anything was rejected. A file that is unusable as a
whole (not valid UTF-8 text, not JSON, not XML) is reported once, at the line where it breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dailypapers.services.catalog import ImportResult, ProgressFn
from dailypapers.services.catalog_import import import_records
from dailypapers.sources.arxiv import FeedError, parse_arxiv_feed
from dailypapers.sources.hf_json import parse_hf_item
# The snapshot importer lives in its own module; the CLI finds every format here.
from dailypapers.services.snapshot import SNAPSHOT_CACHE_MIB as SNAPSHOT_CACHE_MIB
from dailypapers.services.snapshot import import_arxiv_snapshot as import_arxiv_snapshot
from dailypapers.sources.jsonl import MAX_LINE_BYTES as MAX_LINE_BYTES
from dailypapers.sources.jsonl import numbered_lines, parse_jsonl_line
from dailypapers.sources.records import PaperRecord, RecordError, Rejected
from dailypapers.sources.seeds import parse_seed_page


def import_parsed(*, db: Session, records: Iterable[PaperRecord], rejected: list[Rejected],
                  batch_size: int = 1000, progress: ProgressFn | None = None) -> ImportResult:
    """Upsert records a parser produced; the parser's rejections lead the result's list."""
    result = import_records(db=db, records=records, batch_size=batch_size, progress=progress)
    result.rejected = rejected + result.rejected
    return result


def field_rejections(record: PaperRecord, source: str, line: int, *, prefix: str = "") -> list[Rejected]:
    """The fields a parser dropped from an otherwise good record, as rejections at its line."""
    return [Rejected(source, line, f"{prefix}{reason}") for reason in record.field_errors]


def _read_text(path: Path) -> str:
    """The file as UTF-8 text; ``RecordError`` naming the line of the first invalid byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _LineError(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from exc


class _LineError(RecordError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


def count_jsonl_lines(paths: Iterable[Path]) -> int:
    """How many non-blank lines the files hold (the progress bar's total)."""
    total = 0
    for path in paths:
        with open(path, "rb") as fh:
            total += sum(1 for _, line in numbered_lines(fh) if line is None or line.strip())
    return total


def iter_jsonl(paths: Iterable[Path], rejected: list[Rejected]) -> Iterator[PaperRecord]:
    """Records of every good line; each bad line is appended to ``rejected`` with its number."""
    for path in paths:
        with open(path, "rb") as fh:
            for number, line in numbered_lines(fh):
                if line is None:
                    rejected.append(Rejected(str(path), number,
                                             f"line longer than {MAX_LINE_BYTES} bytes"))
                    continue
                if not line.strip():
                    continue
                try:
                    record = parse_jsonl_line(line)
                except RecordError as exc:
                    rejected.append(Rejected(str(path), number, str(exc)))
                    continue
                rejected += field_rejections(record, str(path), number)
                yield record


def import_jsonl(*, db: Session, paths: list[Path], batch_size: int = 1000,
                 progress: ProgressFn | None = None) -> ImportResult:
    """Import JSON Lines files (our export format and the shared HF dataset), streaming."""
    rejected: list[Rejected] = []
    return import_parsed(db=db, records=iter_jsonl(paths, rejected), rejected=rejected,
                         batch_size=batch_size, progress=progress)


def parse_seed_files(paths: list[Path], *, year: int) -> tuple[list[PaperRecord], list[Rejected]]:
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    for path in paths:
        try:
            text = _read_text(path)
        except _LineError as exc:
            rejected.append(Rejected(str(path), exc.line, str(exc)))
            continue
        got, bad = parse_seed_page(text, year=year, source=str(path))
        records += got
        rejected += bad
    return records, rejected


def import_seeds(*, db: Session, paths: list[Path], year: int, batch_size: int = 1000,
                 progress: ProgressFn | None = None) -> ImportResult:
    """Import the text of Daily Papers pages; dates printed without a year belong to ``year``."""
    records, rejected = parse_seed_files(paths, year=year)
    return import_parsed(db=db, records=records, rejected=rejected, batch_size=batch_size,
                         progress=progress)


def _json_list_items(text: str) -> Iterator[tuple[int, Any]]:
    """(line, value) of each element of a top-level JSON list, so a bad item is found by line."""
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    pos = len(text) - len(text.lstrip(ws))
    if not text.startswith("[", pos):
        value, _ = decoder.raw_decode(text, pos)  # raises for invalid JSON, else it is not a list
        raise _LineError(1, f"expected a JSON list of daily-paper items, got a {type(value).__name__}")
    pos += 1
    while True:
        while pos < len(text) and text[pos] in ws:
            pos += 1
        if text.startswith("]", pos):
            rest = text[pos + 1:]
            if rest.strip(ws):
                raise json.JSONDecodeError("Extra data", text, pos + 1 + len(rest) - len(rest.lstrip(ws)))
            return
        value, end = decoder.raw_decode(text, pos)
        yield text.count("\n", 0, pos) + 1, value
        pos = end
        while pos < len(text) and text[pos] in ws:
            pos += 1
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("]", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)


def parse_hf_json_files(paths: list[Path]) -> tuple[list[PaperRecord], list[Rejected]]:
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    for path in paths:
        # Parse the whole file before keeping any item: a file cut off half-way is rejected whole
        # rather than imported up to the break.
        got: list[PaperRecord] = []
        bad: list[Rejected] = []
        try:
            for index, (line, item) in enumerate(_json_list_items(_read_text(path)), 1):
                try:
                    record = parse_hf_item(item)
                except RecordError as exc:
                    bad.append(Rejected(str(path), line, f"item {index}: {exc}"))
                    continue
                got.append(record)
                bad += field_rejections(record, str(path), line, prefix=f"item {index}: ")
        except _LineError as exc:
            rejected.append(Rejected(str(path), exc.line, str(exc)))
            continue
        except json.JSONDecodeError as exc:
            rejected.append(Rejected(str(path), exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        records += got
        rejected += bad
    return records, rejected


def import_hf_json(*, db: Session, paths: list[Path], batch_size: int = 1000,
                   progress: ProgressFn | None = None) -> ImportResult:
    """Import saved responses of Hugging Face's ``/api/daily_papers`` (a JSON list per file)."""
    records, rejected = parse_hf_json_files(paths)
    return import_parsed(db=db, records=records, rejected=rejected, batch_size=batch_size,
                         progress=progress)


def parse_arxiv_files(paths: list[Path]) -> tuple[list[PaperRecord], list[Rejected]]:
    records: list[PaperRecord] = []
    rejected: list[Rejected] = []
    for path in paths:
        try:
            feed = parse_arxiv_feed(path.read_bytes(), source=str(path))
        except FeedError as exc:
            rejected.append(Rejected(str(path), exc.line, str(exc)))
            continue
        records += feed.records
        rejected += sorted(feed.errors + feed.rejected, key=lambda r: r.line)
    return records, rejected


def import_arxiv(*, db: Session, paths: list[Path], batch_size: int = 1000,
                 progress: ProgressFn | None = None) -> ImportResult:
    """Import saved arXiv API responses; ``2401.01234v3`` is stored as ``2401.01234``, version 3."""
    records, rejected = parse_arxiv_files(paths)
    return import_parsed(db=db, records=records, rejected=rejected, batch_size=batch_size,
                         progress=progress)
