"""The one step where vector backends differ: the nearest papers for a query vector.

Fusion, pins, filters and sorts are the same code whatever answers it (``ranking``, ``service``).
Two backends implement ``Neighbours``, chosen by ``search_vector_backend``:

- ``memory``: ``vectors.VectorIndex``, the in-process exact/IVF index, caught up with the
  ``embeddings`` table before each query;
- ``pgvector``: ``PgVectorNeighbours``, PostgreSQL answering from the ``embeddings`` table itself
  through the per-model HNSW index of ``store.vectors``. It reads the committed rows at query
  time, so it is never behind the table, whichever process wrote them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Protocol

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dailypapers.store import Embedding
from dailypapers.store.vectors import ensure_vector_index, index_name, nearest_papers

log = logging.getLogger(__name__)


class Neighbours(Protocol):
    """Nearest papers by meaning, for one query (a backend may be bound to a session)."""

    #: Whether ``search`` may run on another thread than the request's (while it searches
    #: keywords): true for the in-process index, false for one bound to the request's session.
    thread_safe: bool

    def search(self, query: np.ndarray, *, limit: int) -> list[tuple[int, float]]:
        """``(paper_id, cosine similarity)`` of the ``limit`` nearest papers, best first."""
        ...

    def vectors_of(self, paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The current vectors of the given papers (those that have one)."""
        ...


class PgVectorNeighbours:
    """``Neighbours`` answered by PostgreSQL within ``db``'s transaction."""

    thread_safe = False  # a Session is used by one thread at a time: the request's

    def __init__(self, db: Session, *, model: str, dim: int | None, ef_search: int) -> None:
        self.db = db
        self.model = model
        self.dim = dim
        self.ef_search = ef_search

    def search(self, query: np.ndarray, *, limit: int) -> list[tuple[int, float]]:
        if self.dim is None or limit <= 0:
            return []
        # The HNSW scan returns at most ef_search rows: ask for as many as the caller wants.
        pairs = nearest_papers(db=self.db, model=self.model, query=np.asarray(query, dtype=np.float32).tolist(),
                               limit=limit, ef_search=max(self.ef_search, limit))
        return [(pid, 1.0 - distance) for pid, distance in pairs]

    def vectors_of(self, paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
        ids = list(dict.fromkeys(paper_ids))
        if self.dim is None or not ids:
            return {}
        out: dict[int, np.ndarray] = {}
        for start in range(0, len(ids), 500):
            rows = self.db.execute(select(Embedding.paper_id, Embedding.vector)
                                   .where(Embedding.model == self.model, Embedding.dim == self.dim,
                                          Embedding.paper_id.in_(ids[start:start + 500])))
            for pid, blob in rows:
                out[pid] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        return out


class PgVectorBackend:
    """What one process knows about the pgvector side: the model's dimension once vectors exist.

    The first time a process sees vectors of the model it makes sure their HNSW index exists
    (``dailypapers embed`` and ``index rebuild`` create it too; this covers vectors that arrived
    another way, such as the bundled sample or ``db copy``).
    """

    def __init__(self, *, model: str, ef_search: int = 96, m: int = 16, ef_construction: int = 64) -> None:
        self.model = model
        self.ef_search = ef_search
        self.m = m
        self.ef_construction = ef_construction
        self.dim: int | None = None
        self._lock = threading.Lock()

    def neighbours(self, db: Session) -> PgVectorNeighbours:
        """A ``Neighbours`` for queries in ``db`` (one cheap lookup until the model has vectors)."""
        if self.dim is None:
            dim = db.scalar(select(Embedding.dim).where(Embedding.model == self.model).limit(1))
            if dim is not None:
                with self._lock:
                    if self.dim is None:
                        self._ensure_index(db, dim)
                        self.dim = dim
        return PgVectorNeighbours(db, model=self.model, dim=self.dim, ef_search=self.ef_search)

    def _ensure_index(self, db: Session, dim: int, *, wait: bool = False) -> None:
        name = index_name(self.model, dim)
        if db.scalar(text("SELECT 1 FROM pg_indexes WHERE indexname = :name"), {"name": name}):
            return
        # Its own transaction: the caller's session may be a read-only request. The lock timeout
        # keeps a query from waiting on a writer (even its own session's uncommitted vectors):
        # without the index the same query is still answered, by a scan, and a later process retries.
        try:
            with Session(db.get_bind()) as own, own.begin():
                if not wait:
                    own.execute(text("SET LOCAL lock_timeout = '5s'"))
                ensure_vector_index(db=own, model=self.model, dim=dim, m=self.m,
                                    ef_construction=self.ef_construction)
        except OperationalError as exc:
            log.warning("pgvector HNSW index %s not created (%s); run `dailypapers index rebuild`",
                        name, exc.orig)
            return
        log.info("created the pgvector HNSW index %s for %s", name, self.model)

    def rebuild(self, db: Session) -> tuple[int, str]:
        """Make sure the index exists for the model's vectors; ``(vectors, index name or "none")``."""
        count, dim = db.execute(select(func.count(), func.min(Embedding.dim))
                                .where(Embedding.model == self.model)).one()
        if not count:
            return 0, "none"
        with self._lock:
            self._ensure_index(db, dim, wait=True)
            self.dim = dim
        return int(count), index_name(self.model, dim)
