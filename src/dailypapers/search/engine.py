"""``SearchEngine``: the indexes and the model of one process, built from the settings.

The web app keeps one on ``app.state.search``; each CLI command builds its own. Nothing is opened
or loaded until first use, so building one costs nothing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np
from sqlalchemy import event
from sqlalchemy.orm import Session

from dailypapers.search.bundle import adopt_bundle
from dailypapers.search.encoder import (
    EmbeddingProvider,
    ModelUnavailable,
    load_provider,
)
from dailypapers.search.keyword import KeywordIndex
from dailypapers.search.neighbours import Neighbours, PgVectorBackend
from dailypapers.search.vectors import VectorIndex
from dailypapers.settings import Settings
from dailypapers.store import Paper
from dailypapers.store.db import Database, written_tables

log = logging.getLogger(__name__)

#: Seconds a request waits for the keyword index writer held by another process.
QUERY_LOCK_WAIT = 0.25


def _slug(model: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in model)


class SearchEngine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root: Path = settings.data_dir / "search"
        self._bundle_lock = threading.Lock()
        self._bundle_checked = False
        self._model_failed = False
        self._model_ready: threading.Event | None = None
        self.catch_up_worker: KeywordCatchUp | None = None

    @property
    def semantic(self) -> bool:
        return self.settings.search_semantic

    @property
    def model(self) -> str:
        return self.settings.search_embedding_model

    @cached_property
    def keyword(self) -> KeywordIndex:
        return KeywordIndex(self.root / "keyword", title_boost=self.settings.search_title_boost)

    @cached_property
    def vectors(self) -> VectorIndex:
        return VectorIndex(self.root / "vectors" / _slug(self.model), model=self.model,
                           exact_max=self.settings.search_exact_vectors_max)

    @property
    def vector_backend(self) -> str:
        """``memory`` or ``pgvector``: ``search_vector_backend`` with ``auto`` resolved."""
        backend = self.settings.search_vector_backend
        if backend == "auto":
            return "memory" if self.settings.is_sqlite else "pgvector"
        return backend

    @cached_property
    def pgvector(self) -> PgVectorBackend:
        return PgVectorBackend(model=self.model)

    @property
    def has_vectors(self) -> bool:
        """Whether the last ``prepare`` saw any vector of the model (else the model is not loaded)."""
        if self.vector_backend == "pgvector":
            return self.pgvector.dim is not None
        return self.vectors.count > 0

    @cached_property
    def provider(self) -> EmbeddingProvider:
        cache = self.settings.search_model_cache_dir or (self.settings.data_dir / "models")
        return load_provider(model=self.model, cache_dir=cache)

    def prepare(self, db: Session) -> Neighbours:
        """Bring both indexes up to what ``db`` has committed (cheap when nothing changed) and
        return what answers nearest-neighbour queries in ``db`` (pgvector reads the table itself).

        A query does not wait behind another process's rebuild: it searches what is indexed.
        """
        self.keyword.catch_up(db, wait=QUERY_LOCK_WAIT)
        if not self.semantic:
            return self.vectors  # never loaded: empty
        self._adopt_bundle_once(db)
        if self.vector_backend == "pgvector":
            return self.pgvector.neighbours(db)
        self.vectors.sync(db)
        return self.vectors

    def rebuild_vectors(self, db: Session) -> str:
        """Rebuild the in-process index, or make sure pgvector's HNSW index exists; a summary."""
        if self.vector_backend == "pgvector":
            count, index = self.pgvector.rebuild(db)
            return f"{count} vectors (pgvector, HNSW index {index})"
        count = self.vectors.rebuild(db)
        return f"{count} vectors ({self.vectors.kind})"

    def _adopt_bundle_once(self, db: Session) -> None:
        if self._bundle_checked:
            return
        with self._bundle_lock:
            if not self._bundle_checked:
                adopted = adopt_bundle(db=db, model=self.model)
                if adopted:
                    log.info("stored %d bundled sample vectors", adopted)
                self._bundle_checked = True

    def warm_model_in_background(self) -> threading.Thread | None:
        """Load the query model (exporting it to ONNX once, ~10 s) on a daemon thread. Until it
        is ready ``embed_query`` returns ``None``: searches meanwhile use keywords only instead of
        holding a request (and a worker thread) for the export. The web server calls this at
        startup; the CLI loads the model when it first needs it."""
        if not self.semantic:
            return None
        ready = self._model_ready = threading.Event()

        def warm() -> None:
            try:
                self.provider.embed_query("warm up")
            except (ModelUnavailable, ImportError, OSError, RuntimeError, ValueError) as exc:
                log.error("the embedding model is unavailable, searching by keywords only: %s", exc)
                self._model_failed = True
            finally:
                ready.set()

        thread = threading.Thread(target=warm, name="dailypapers-model-warmup", daemon=True)
        thread.start()
        return thread

    @property
    def model_warming(self) -> bool:
        """Whether ``warm_model_in_background`` is still loading the model."""
        return self._model_ready is not None and not self._model_ready.is_set()

    def wait_for_model(self, timeout: float | None = None) -> bool:
        """Wait until a background warm-up has finished (or failed); True when none is running."""
        return self._model_ready is None or self._model_ready.wait(timeout)

    def embed_query(self, text: str) -> np.ndarray | None:
        """The query's vector, or ``None`` when semantic search is off, no paper has a vector yet
        (then the model is not even loaded), the model is still warming up or cannot load."""
        if self.model_warming:
            return None
        if not self.semantic or not text.strip() or not self.has_vectors or self._model_failed:
            return None
        try:
            return self.provider.embed_query(text)
        except (ModelUnavailable, ImportError, OSError, RuntimeError, ValueError) as exc:
            # A model that cannot load (or export to ONNX) must not fail searches: keyword search
            # still answers. Not retried in this process, so each query does not pay for it again.
            log.error("the embedding model is unavailable, searching by keywords only: %s", exc)
            self._model_failed = True
            return None

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="dailypapers-embed")

    def embed_query_async(self, text: str) -> Future[np.ndarray | None]:
        """``embed_query`` on a worker thread, so the keyword search can run meanwhile (both
        release the GIL: on 2 cores the BM25 query is hidden behind the embedding)."""
        return self._pool.submit(self.embed_query, text)

    def install_hooks(self, database: Database) -> None:
        """Keep the keyword index caught up in the background after commits that wrote papers.

        Nothing runs inside the commit: the hook only notes that a transaction wrote to
        ``papers`` and, once it has committed, wakes ``KeywordCatchUp`` (a thread of this process,
        which waits ``CATCH_UP_DELAY`` seconds to gather a burst of commits into one catch-up and
        then reads with a session of its own). Queries still catch up themselves (``prepare``).
        """
        self.catch_up_worker = KeywordCatchUp(self.keyword, database)
        worker = self.catch_up_worker

        def after_commit(session: Session) -> None:
            if Paper.__tablename__ in written_tables(session):  # noted by store.db, no I/O
                worker.request()

        event.listen(database.sessions, "after_commit", after_commit)

    def stop(self) -> None:
        """Stop the background catch-up thread, if one was started."""
        if self.catch_up_worker is not None:
            self.catch_up_worker.stop()


#: Seconds the background catch-up waits after a commit, to index a burst of changes at once.
CATCH_UP_DELAY = 0.5


class KeywordCatchUp:
    """One daemon thread per process that brings the keyword index up to date after commits.

    ``request`` only sets an event (it is called from ``after_commit``, where no connection may
    be opened); the thread sleeps ``delay`` seconds so that a burst of commits costs one
    catch-up, then reads ``max(modified_at)`` and indexes what changed (nothing when the writes
    were, say, vote counts: the watermark did not move). Failures are logged; the next request or
    query retries.
    """

    def __init__(self, keyword: KeywordIndex, database: Database, *,
                 delay: float = CATCH_UP_DELAY) -> None:
        self.keyword = keyword
        self.database = database
        self.delay = delay
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Condition()
        self._running = False
        self.runs = 0  # catch-ups done (tests read it)

    def request(self) -> None:
        self._wanted.set()
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(target=self._run, daemon=True,
                                                    name="dailypapers-keyword-catch-up")
                    self._thread.start()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no catch-up is wanted or running (tests that count connections use it)."""
        with self._idle:
            return self._idle.wait_for(
                lambda: self._stopping.is_set() or not (self._wanted.is_set() or self._running),
                timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping.wait(self.delay):
                return
            with self._idle:
                self._running = True
                self._wanted.clear()
            try:
                with self.database.session() as db:
                    self.keyword.catch_up(db)
            except Exception:
                log.exception("background keyword index catch-up failed; the next change retries")
            with self._idle:
                self._running = False
                self.runs += 1
                self._idle.notify_all()
