"""``import arxiv-snapshot``: arXiv's metadata snapshot (millions of papers) on two cores.

The upsert is the one every importer uses (``services.catalog``), split in two:

- A reader process (the second core) decompresses and parses the file and prepares, for each
  record, the row a new paper would get, already encoded for the database driver.
- This process looks each batch up in the catalog (by arXiv id, key and title key, as every
  importer does). A record of a paper it does not hold (on a first import, nearly all) is written
  straight from its prepared row: papers by executemany (COPY on PostgreSQL), their ids read back
  by key, author ids from a bounded in-memory map, then the author lists. Every other record (a
  re-import, a paper already synced, a seed card with the same title, a paper twice in the batch)
  goes through ``catalog.upsert_batch``, unchanged.

One transaction per batch, committed before the next: an import that is interrupted and run
again ends with the same catalog as one clean run. The keyword index catches up by itself
(``search/keyword.py``: every paper written carries a new ``modified_at``).
"""

from __future__ import annotations

import gc
import gzip
import os
import pickle
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from sqlalchemy.orm import Session

from dailypapers.services.catalog import (
    NEW_PAPER_COLUMNS,
    Batch,
    ImportResult,
    ProgressFn,
    author_ids,
    ids_by,
    new_paper_values,
    upsert_batch,
)
from dailypapers.sources.arxiv_snapshot import parse_snapshot_line
from dailypapers.sources.jsonl import MAX_LINE_BYTES, numbered_lines
from dailypapers.sources.records import PaperRecord, RecordError, Rejected, normalize_title
from dailypapers.store import Paper, PaperAuthor
from dailypapers.store.base import utcnow
from dailypapers.store.bulk import dialect_name, dialect_named, insert_encoded, row_encoder
from dailypapers.store.db import end_read_only, foreign_keys_unchecked, widen_page_cache

# SQLite page cache while importing a snapshot: keeps a million-paper import within its 500 MB
# budget (peak RSS ≈ 90 MB + this) while sparing it most reads of index pages.
SNAPSHOT_CACHE_MIB = 192
#: Records per transaction. Each transaction rewrites every index page it touched (to the WAL,
#: then to the database at the checkpoint), and a paper's rows touch pages all over the indexes
#: of title keys, dates and author ids: 1,000 records a transaction wrote ~50 MB per 2.8 MB of
#: papers once the catalog held 400,000. Larger transactions touch each page once for many records.
SNAPSHOT_TRANSACTION_SIZE = 20_000
#: Files smaller than this are read in the importing process: starting the reader process costs
#: about half a second, more than it saves on a few thousand records.
PARALLEL_MIN_BYTES = 16 << 20
#: Author names whose ids the import remembers; past this the map starts again (bounded memory:
#: ~150 bytes a name). The real snapshot names ~2 million distinct authors, most of them once.
AUTHOR_MAP_NAMES = 400_000

_PAPERS = Paper.__table__
_STAMP_COLUMNS = ("created_at", "modified_at")
_LINK_COLUMNS = ("paper_id", "position", "author_id")


class Prepared(NamedTuple):
    """A parsed record, its key and title key, and the encoded row (``NEW_PAPER_COLUMNS``) it
    creates if no stored paper matches it."""

    record: PaperRecord
    key: str
    title_key: str
    row: list[Any]


class Chunk(NamedTuple):
    """One batch from the reader: records, the lines rejected since the last one, and how far
    into the file (bytes as stored) the reader got."""

    records: list[Prepared]
    rejected: list[Rejected]
    position: int


def read_chunks(path: Path, *, dialect: str, batch_size: int) -> Iterator[Chunk]:
    """Parse a snapshot file (plain or gzip, recognised by content) into batches of prepared records."""
    encode = row_encoder(dialect_named(dialect), _PAPERS, NEW_PAPER_COLUMNS)  # type: ignore[arg-type]
    source = str(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        fh: BinaryIO = gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[assignment]
        batch: list[Prepared] = []
        rejected: list[Rejected] = []
        number = 0
        lines = numbered_lines(fh)
        while True:
            try:
                number, line = next(lines)
            except StopIteration:
                break
            except (OSError, EOFError) as exc:  # a corrupt or cut-off .gz: the lines before it stand
                rejected.append(Rejected(source, number + 1, f"unreadable gzip data: {exc}"))
                break
            if line is None:
                rejected.append(Rejected(source, number, f"line longer than {MAX_LINE_BYTES} bytes"))
                continue
            if not line.strip():
                continue
            try:
                record = parse_snapshot_line(line)
            except RecordError as exc:
                rejected.append(Rejected(source, number, str(exc)))
                continue
            title_key = normalize_title(record.title)
            batch.append(Prepared(record, record.public_key(), title_key,
                                  encode(new_paper_values(record, title_key))))
            if len(batch) >= batch_size:
                yield Chunk(batch, rejected, raw.tell())
                batch, rejected = [], []
        yield Chunk(batch, rejected, raw.tell())


# --- the reader process --------------------------------------------------------------------------

def reader_main(args: list[str]) -> None:
    """Entry point of the reader process: ``PATH DIALECT BATCH_SIZE FD``; writes pickled
    ``("chunk", Chunk)`` frames to file descriptor FD, then ``("done", None)`` or ``("error", text)``."""
    path, dialect, batch_size, fd = args
    gc.disable()  # see _without_cycle_collection
    with open(int(fd), "wb") as out:
        try:
            for chunk in read_chunks(Path(path), dialect=dialect, batch_size=int(batch_size)):
                pickle.dump(("chunk", chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()  # a full pipe blocks here: the reader stays about a batch ahead
            pickle.dump(("done", None), out)
        except BrokenPipeError:  # the importing process is gone: nobody reads any more
            raise SystemExit(1) from None
        except Exception as exc:  # noqa: BLE001 — reported to the importing process, which raises it
            pickle.dump(("error", f"{type(exc).__name__}: {exc}"), out)


class ReaderFailed(RuntimeError):
    """The reader process stopped without finishing the file."""


def chunks_from_reader(path: Path, *, dialect: str, batch_size: int) -> Iterator[Chunk]:
    """``read_chunks`` run in a second process (a new interpreter: neither ``fork``, which would
    copy the locks other threads hold, nor ``multiprocessing``'s spawn, which re-runs the
    caller's main script), handing over pickled batches through a pipe."""
    package_root = str(Path(__file__).resolve().parents[2])  # the same code as this process's
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    read_fd, write_fd = os.pipe()
    code = "import sys; from dailypapers.services.snapshot import reader_main; reader_main(sys.argv[1:])"
    try:
        reader = subprocess.Popen([sys.executable, "-c", code, str(path), dialect, str(batch_size), str(write_fd)],
                                  pass_fds=(write_fd,), env=env, stdin=subprocess.DEVNULL)
    finally:
        os.close(write_fd)  # the reader holds its own copy; ours would keep the pipe from ending
    with open(read_fd, "rb") as inbox:
        try:
            while True:
                try:
                    kind, payload = pickle.load(inbox)  # noqa: S301 — our own child process
                except EOFError:
                    raise ReaderFailed(f"the snapshot reader stopped (exit code {reader.wait()})") from None
                if kind == "chunk":
                    yield payload
                elif kind == "done":
                    break
                else:
                    raise ReaderFailed(f"reading {path} failed: {payload}")
            reader.wait()
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.wait()


# --- the writer ----------------------------------------------------------------------------------

class AuthorMap:
    """Author ids by name for one import: each name is looked up (or created) once, not per batch.

    Only ids of committed or about-to-commit rows enter it; a failed batch ends the import, and
    the map with it. Authors are never deleted, so an id stays right while the import runs."""

    def __init__(self, limit: int = AUTHOR_MAP_NAMES) -> None:
        self.limit = limit
        self.known: dict[str, int] = {}

    def ids(self, db: Session, names: set[str]) -> dict[str, int]:
        known = self.known
        missing = {name for name in names if name not in known}
        if not missing:
            return known
        found = author_ids(db, missing)
        if len(known) + len(found) > self.limit:
            known = {name: known[name] for name in names - missing}  # this batch's, and start again
            self.known = known
        known.update(found)
        return known


def write_chunk(db: Session, prepared: list[Prepared], result: ImportResult, authors: AuthorMap) -> None:
    """Upsert one batch in the session's transaction (see the module's docstring)."""
    if not prepared:
        return
    records = [item.record for item in prepared]
    title_keys = {item.record.title: item.title_key for item in prepared}
    batch = Batch(db, records, title_keys)
    batch.load_existing()
    counts = Counter(item.key for item in prepared)
    fresh: list[Prepared] = []
    others: list[PaperRecord] = []
    for item in prepared:
        if counts[item.key] > 1 or batch.match(item.record) is not None:
            others.append(item.record)
        else:
            fresh.append(item)
    if others:
        upsert_batch(db, others, result, title_keys)
    if not fresh:
        return
    stamp = row_encoder(db.get_bind().dialect, _PAPERS, _STAMP_COLUMNS)([utcnow()] * 2)  # type: ignore[arg-type]
    insert_encoded(db=db, table=_PAPERS, names=(*NEW_PAPER_COLUMNS, *_STAMP_COLUMNS),  # type: ignore[arg-type]
                   rows=[item.row + stamp for item in fresh])
    paper_ids = ids_by(db, Paper.key, Paper.id, [item.key for item in fresh])
    author_id = authors.ids(db, {name for item in fresh for name in item.record.authors})
    links = [(paper_ids[item.key], position, author_id[name])
             for item in fresh for position, name in enumerate(item.record.authors)]
    if links:
        insert_encoded(db=db, table=PaperAuthor.__table__, names=_LINK_COLUMNS, rows=links)  # type: ignore[arg-type]
    result.created += len(fresh)


def import_arxiv_snapshot(*, db: Session, paths: list[Path], batch_size: int = 1000,
                          progress: ProgressFn | None = None, parallel: bool | None = None,
                          transaction_size: int = SNAPSHOT_TRANSACTION_SIZE) -> ImportResult:
    """Import arXiv metadata snapshot files (JSON Lines, plain or gzip), streaming: memory stays
    bounded by a few batches whatever the file's size.

    Records are looked up and written ``batch_size`` at a time and committed every
    ``transaction_size`` records (at least one batch). ``parallel`` parses in a second process
    (default: for files of ``PARALLEL_MIN_BYTES`` or more). ``progress`` advances by bytes of the
    files as stored (compressed bytes for a .gz) as each transaction commits, so the bar needs no
    counting pass over a multi-gigabyte file.
    """
    end_read_only(db)  # it commits each transaction: never work its caller had pending
    widen_page_cache(db, mib=SNAPSHOT_CACHE_MIB)
    with _without_cycle_collection(), foreign_keys_unchecked(db):
        return _import(db, paths, batch_size, progress, parallel, transaction_size)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's automatic cycle collection: an import allocates millions of short-lived
    acyclic objects (rows, tuples), and every few thousand of them the collector walked all the
    objects alive. Reference counting still frees them at once; the import collects cycles
    itself after each transaction."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(db: Session, paths: list[Path], batch_size: int, progress: ProgressFn | None,
            parallel: bool | None, transaction_size: int) -> ImportResult:
    result = ImportResult()
    authors = AuthorMap()
    dialect = dialect_name(db)
    for path in paths:
        in_parallel = parallel if parallel is not None else path.stat().st_size >= PARALLEL_MIN_BYTES
        reader = chunks_from_reader if in_parallel else read_chunks
        done = position = pending = 0
        try:
            for chunk in reader(path, dialect=dialect, batch_size=batch_size):
                write_chunk(db, chunk.records, result, authors)
                result.rejected += chunk.rejected
                pending += len(chunk.records)
                position = chunk.position
                if pending >= transaction_size:
                    db.commit()
                    gc.collect()  # what few cycles the batches left (SQLAlchemy's), once per transaction
                    pending = 0
                    if progress is not None:
                        progress(position - done)
                        done = position
            db.commit()
        except BaseException:
            db.rollback()
            raise
        if progress is not None:
            progress(path.stat().st_size - done)
    return result
