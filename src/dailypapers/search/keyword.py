"""The keyword side: a tantivy BM25 index over title (boosted), abstract and authors.

The index is fed from the ``papers`` table and kept in step by a watermark: the newest
``papers.modified_at`` it has indexed, saved next to the index. Before answering, ``catch_up``
indexes every paper changed since then, so a change is searchable as soon as its transaction has
committed, whichever process committed it. ``rebuild`` re-reads everything from the database.

The state also names the catalog the index was built from (``store.catalog_identity``): when the
database is another one (deleted and created again at the same URL, say), ``catch_up`` drops
every document and indexes the new database from the start, as it does for an empty index.

Several processes (web workers, the CLI) share one index directory. tantivy allows one writer
at a time, so writers are taken briefly and retried while another process holds the lock.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import tantivy
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.search.analysis import NAMES, STOPWORDS, TEXT, Analyzers
from dailypapers.search.documents import PaperText, iter_papers
from dailypapers.search.query import ParsedQuery
from dailypapers.store import Paper
from dailypapers.store.catalog_identity import catalog_id_column

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
STATE_FILE = "dailypapers-state.json"
# Papers changed this long before the watermark are looked at again: a transaction that stamped
# modified_at earlier but committed later than another one is not missed.
MARGIN = dt.timedelta(seconds=5)
#: How long a writer waits for another process's writer by default (rebuilds and the CLI).
LOCK_WAIT_SECONDS = 30.0
Occur = tantivy.Occur


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("paper_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("title", tokenizer_name=TEXT)
    sb.add_text_field("abstract", tokenizer_name=TEXT)
    sb.add_text_field("authors", tokenizer_name=NAMES)
    return sb.build()


class KeywordIndex:
    """One tantivy index directory plus its watermark; safe to share between threads."""

    def __init__(self, path: Path, *, title_boost: float = 2.0) -> None:
        self.path = path
        self.title_boost = title_boost
        self.analyzers = Analyzers()
        self.schema = _schema()
        self._write_lock = threading.Lock()
        self._state_stamp: tuple[int, int] | None = None
        self.watermark: dt.datetime | None = None
        self.catalog: str | None = None
        self._open()

    # -- opening and state -------------------------------------------------------------------

    def _open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        state = self._read_state()
        if tantivy.Index.exists(str(self.path)) and state.get("schema") != SCHEMA_VERSION:
            # An index written by another version of this code: start again from the database.
            shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
            state = {}
        self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self.index.register_tokenizer(TEXT, self.analyzers.text)
        self.index.register_tokenizer(NAMES, self.analyzers.names)
        self._apply_state(state)

    def _state_path(self) -> Path:
        return self.path / STATE_FILE

    def _read_state(self) -> dict[str, object]:
        try:
            state = json.loads(self._state_path().read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _apply_state(self, state: dict[str, object]) -> None:
        mark = state.get("watermark")
        self.watermark = dt.datetime.fromisoformat(mark) if isinstance(mark, str) else None
        catalog = state.get("catalog")
        self.catalog = catalog if isinstance(catalog, str) else None
        self._state_stamp = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self._state_path().stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def _write_state(self, watermark: dt.datetime | None, catalog: str | None) -> None:
        tmp = self.path / (STATE_FILE + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, "catalog": catalog,
                                   "watermark": watermark.isoformat() if watermark else None}))
        os.replace(tmp, self._state_path())
        self._apply_state(self._read_state())

    def refresh_reader(self) -> None:
        """See what other processes committed (cheap when nothing changed: one ``stat``)."""
        if self._stamp() != self._state_stamp:
            self.index.reload()
            self._apply_state(self._read_state())

    @property
    def num_docs(self) -> int:
        return self.index.searcher().num_docs

    # -- writing ---------------------------------------------------------------------------

    def _writer(self, heap: int = 64_000_000, threads: int = 1,
                wait: float = LOCK_WAIT_SECONDS) -> tantivy.IndexWriter:
        deadline = time.monotonic() + wait
        while True:
            try:
                return self.index.writer(heap, threads)
            except ValueError as exc:
                if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _add(self, writer: tantivy.IndexWriter, docs: Iterable[PaperText], *, replace: bool) -> int:
        n = 0
        for doc in docs:
            if replace:
                writer.delete_documents_by_term("paper_id", doc.paper_id)
            writer.add_document(tantivy.Document(
                paper_id=doc.paper_id, title=doc.title, abstract=doc.abstract,
                authors=" ; ".join(doc.authors)))
            n += 1
        return n

    def catch_up(self, db: Session, *, wait: float = LOCK_WAIT_SECONDS) -> int:
        """Index the papers changed since the watermark; returns how many were (re)indexed.

        If another process holds the writer for longer than ``wait`` seconds (a rebuild), nothing
        is indexed now and the next call tries again: queries pass a short ``wait``.
        """
        self.refresh_reader()
        newest, catalog = db.execute(select(func.max(Paper.modified_at), catalog_id_column())).one()
        if self._current(newest, catalog):
            return 0
        with self._write_lock:
            self.refresh_reader()  # another thread or process may have done it meanwhile
            if self._current(newest, catalog):
                return 0
            try:
                writer = self._writer(wait=wait)
            except ValueError:
                log.warning("keyword index is locked by another writer; searching without the "
                            "newest changes for now")
                return 0
            same = catalog == self.catalog
            if not same:
                log.info("keyword index was built from another database (catalog %s, this one is "
                         "%s): indexing this one from the start", self.catalog, catalog)
            since = self.watermark - MARGIN if same and self.watermark is not None else None
            count, mark = 0, self.watermark if same else None
            try:
                if not same:
                    writer.delete_all_documents()
                for batch in iter_papers(db, since=since):
                    count += self._add(writer, batch, replace=True)
                    mark = max(mark or batch[-1].modified_at, batch[-1].modified_at)
                writer.commit()
            finally:
                writer.wait_merging_threads()
            self._write_state(mark, catalog)
            self.index.reload()
            return count

    def _current(self, newest: dt.datetime | None, catalog: str | None) -> bool:
        """Whether the index holds everything of this catalog up to ``newest``."""
        if catalog != self.catalog:
            return False
        return newest is None or (self.watermark is not None and newest <= self.watermark)

    def rebuild(self, db: Session, *, progress: Callable[[int], None] | None = None) -> int:
        """Replace the whole index with what the database holds now (one commit at the end)."""
        catalog = db.scalar(select(catalog_id_column()))
        return self.rebuild_from(iter_papers(db), progress=progress, catalog=catalog)

    def rebuild_from(self, batches: Iterable[list[PaperText]], *,
                     progress: Callable[[int], None] | None = None, catalog: str | None = None) -> int:
        """Replace the whole index with these documents; the watermark becomes their newest change
        and ``catalog`` the id of the database they come from."""
        with self._write_lock:
            writer = self._writer(heap=256_000_000, threads=2)
            count, mark = 0, None
            try:
                writer.delete_all_documents()
                for batch in batches:
                    count += self._add(writer, batch, replace=False)
                    mark = max(mark or batch[-1].modified_at, batch[-1].modified_at)
                    if progress:
                        progress(len(batch))
                writer.commit()
            finally:
                writer.wait_merging_threads()
            self._write_state(mark, catalog)
            self.index.reload()
            return count

    # -- reading ---------------------------------------------------------------------------

    def _field_term(self, field: str, term: str, boost: float = 1.0) -> tantivy.Query:
        query = tantivy.Query.term_query(self.schema, field, term, index_option="freq")
        return tantivy.Query.boost_query(query, boost) if boost != 1.0 else query

    def _term_clauses(self, word: str) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        out = []
        for term in self.analyzers.terms(word):
            out.append((Occur.Should, self._field_term("title", term, self.title_boost)))
            out.append((Occur.Should, self._field_term("abstract", term)))
        for term in self.analyzers.name_terms(word):
            out.append((Occur.Should, self._field_term("authors", term)))
        return out

    def query_terms(self, parsed: ParsedQuery) -> set[str]:
        """The analysed terms of a query (what the highlighter marks): stop words only when the
        query has nothing else, as in ``build_query``."""
        words = [*parsed.words, *(w for phrase in parsed.phrases for w in phrase)]
        words = [w for w in words if w.lower() not in STOPWORDS] or words
        return {t for w in words for t in self.analyzers.terms(w)}

    def build_query(self, parsed: ParsedQuery) -> tantivy.Query | None:
        """BM25 OR-query of the words (stop words dropped unless nothing else is left), every
        quoted phrase required in the title or abstract, excluded words forbidden everywhere."""
        words = [w for w in parsed.words if w.lower() not in STOPWORDS] or list(parsed.words)
        should: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for word in words:
            should.extend(self._term_clauses(word))
        if should and not parsed.phrases and not parsed.excluded:
            # A flat disjunction of term queries: the shape tantivy prunes best (block-max WAND);
            # wrapping it in a Must costs ~25% at 1M papers (measured).
            return tantivy.Query.boolean_query(should)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if should:
            clauses.append((Occur.Must if not parsed.phrases else Occur.Should,
                            tantivy.Query.boolean_query(should)))
        for phrase in parsed.phrases:
            terms: list[str | tuple[int, str]] = [t for w in phrase for t in self.analyzers.terms(w)]
            if len(terms) < 2:
                continue
            either = [(Occur.Should, tantivy.Query.boost_query(
                          tantivy.Query.phrase_query(self.schema, "title", terms), self.title_boost)),
                      (Occur.Should, tantivy.Query.phrase_query(self.schema, "abstract", terms))]
            clauses.append((Occur.Must, tantivy.Query.boolean_query(either)))
        if not clauses:
            return None
        for word in parsed.excluded:
            for _occur, query in self._term_clauses(word):
                clauses.append((Occur.MustNot, query))
        return tantivy.Query.boolean_query(clauses)

    def run(self, query: tantivy.Query, *, limit: int) -> list[tuple[int, float]]:
        searcher = self.index.searcher()
        result = searcher.search(query, limit, count=False)
        if not result.hits:
            return []
        ids = searcher.fast_field_values("paper_id", [addr for _, addr in result.hits])
        return [(int(pid), float(score)) for (score, _), pid in zip(result.hits, ids, strict=True)
                if pid is not None]

    def search(self, parsed: ParsedQuery, *, limit: int) -> list[tuple[int, float]]:
        """``(paper_id, bm25)`` best first; empty when the query has no searchable word."""
        query = self.build_query(parsed)
        return self.run(query, limit=limit) if query is not None else []

    def more_like_this(self, *, title: str, abstract: str, limit: int,
                       max_terms: int = 40) -> list[tuple[int, float]]:
        """Papers sharing the most distinctive terms of a title and abstract (BM25-ranked).

        Terms are weighted tf·idf as in Lucene's MoreLikeThis; the title counts twice.
        """
        searcher = self.index.searcher()
        total = max(searcher.num_docs, 1)
        counts = Counter(self.analyzers.terms(abstract))
        for term in self.analyzers.terms(title):
            counts[term] += 2
        weighted = []
        for term, tf in counts.items():
            if term in STOPWORDS or len(term) < 2:
                continue
            df = searcher.doc_freq("abstract", term) + searcher.doc_freq("title", term)
            if df == 0:
                continue
            weighted.append((tf * math.log(1 + total / df), term))
        weighted.sort(reverse=True)
        clauses = []
        for _, term in weighted[:max_terms]:
            clauses.append((Occur.Should, self._field_term("title", term, self.title_boost)))
            clauses.append((Occur.Should, self._field_term("abstract", term)))
        if not clauses:
            return []
        return self.run(tantivy.Query.boolean_query(clauses), limit=limit)
