"""The meaning side: nearest neighbours over one model's vectors from the ``embeddings`` table.

Up to ``exact_max`` vectors the search is exact (one matrix product, ~1 ms at 20k); above that an
HNSW graph (faiss ``IndexHNSWFlat``, inner product on unit vectors = cosine) answers in a few ms at
a million. Built artefacts are plain files under ``data_dir/search/vectors/<model>/``
(``ids.npy``, ``vectors.npy`` or ``hnsw.faiss``, ``params.json`` with a version; no pickle).

The table is the truth: ``sync`` asks for the newest ``created_at`` of the model (an indexed
``max``) and adds every vector written since the index's watermark before a query is answered.
A changed vector is appended and its old position hidden; deleted papers drop out when results
are loaded from the database. ``rebuild`` starts again from the table.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.store import Embedding

log = logging.getLogger(__name__)

INDEX_VERSION = 1
MARGIN = dt.timedelta(seconds=5)


class _Store:
    """Vectors by position (exact matrix or HNSW graph) plus the paper id at each position."""

    def __init__(self, dim: int, *, hnsw: bool, m: int, ef_construction: int, ef_search: int) -> None:
        self.dim = dim
        self.hnsw: Any = None
        if hnsw:
            import faiss

            self.hnsw = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            self.hnsw.hnsw.efConstruction = ef_construction
            self.hnsw.hnsw.efSearch = ef_search
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self._blas: Any = None
        self.size = 0
        self.ids = np.zeros(0, dtype=np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        n = len(ids)
        if self.hnsw is not None:
            self.hnsw.add(vectors)
        else:
            if self.size + n > len(self.matrix):  # grow by doubling: appends stay amortised O(1)
                grown = np.zeros((max(2 * len(self.matrix), self.size + n, 1024), self.dim), np.float32)
                grown[: self.size] = self.matrix[: self.size]
                self.matrix = grown
            self.matrix[self.size: self.size + n] = vectors
        if self.size + n > len(self.ids):
            grown_ids = np.full(max(2 * len(self.ids), self.size + n, 1024), -1, dtype=np.int64)
            grown_ids[: self.size] = self.ids[: self.size]
            self.ids = grown_ids
        self.ids[self.size: self.size + n] = ids
        self.size += n

    def top(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, scores) of the ``k`` best positions, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if self.hnsw is not None:
            self.hnsw.hnsw.efSearch = max(self.hnsw.hnsw.efSearch, k)
            scores, positions = self.hnsw.search(query.reshape(1, -1), k)
            keep = positions[0] >= 0
            return positions[0][keep], scores[0][keep]
        if self._blas is None:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]  # no py.typed

            self._blas = ThreadpoolController()
        # One thread: a matrix-vector product is memory-bound, and a second BLAS thread waiting for
        # a busy core made the p90 of a 10k search 20x worse on a loaded 2-core machine (measured).
        with self._blas.limit(limits=1, user_api="blas"):
            scores = self.matrix[: self.size] @ query
        best = np.argpartition(-scores, k - 1)[:k] if k < self.size else np.arange(self.size)
        best = best[np.argsort(-scores[best], kind="stable")]
        return best, scores[best]

    def vectors_at(self, positions: np.ndarray) -> np.ndarray:
        if self.hnsw is not None:
            return np.asarray(self.hnsw.reconstruct_batch(positions.astype(np.int64)))
        return np.asarray(self.matrix[positions])


class VectorIndex:
    """One model's vectors, kept in step with the ``embeddings`` table; safe to share between threads."""

    def __init__(self, path: Path, *, model: str, exact_max: int = 20_000, hnsw_m: int = 16,
                 ef_construction: int = 64, ef_search: int = 96) -> None:
        self.path = path
        self.model = model
        self.exact_max = exact_max
        self.hnsw_params = {"m": hnsw_m, "ef_construction": ef_construction, "ef_search": ef_search}
        self._lock = threading.Lock()
        self._store: _Store | None = None
        self._position: dict[int, int] = {}
        self._stale: set[int] = set()
        self.watermark: dt.datetime | None = None
        self._base_watermark: dt.datetime | None = None
        self._delta_stamps: dict[int, dt.datetime] = {}

    @property
    def count(self) -> int:
        return len(self._position)

    @property
    def kind(self) -> str:
        return "none" if self._store is None else ("hnsw" if self._store.hnsw is not None else "exact")

    # -- keeping in step ---------------------------------------------------------------------

    def _newest(self, db: Session) -> dt.datetime | None:
        return db.scalar(select(func.max(Embedding.created_at)).where(Embedding.model == self.model))

    def sync(self, db: Session) -> int:
        """Load or catch up; returns how many vectors were added. Cheap when nothing changed."""
        newest = self._newest(db)
        if self._store is not None and newest == self.watermark:
            return 0
        with self._lock:
            if self._store is None and not self._load():
                return self._build(db, newest)
            if newest is None or newest == self.watermark:
                return 0
            return self._catch_up(db, newest)

    def _rows(self, db: Session, since: dt.datetime | None, chunk: int = 5000
              ) -> Iterable[tuple[list[int], list[dt.datetime], np.ndarray]]:
        last = 0
        while True:
            stmt = (select(Embedding.id, Embedding.paper_id, Embedding.created_at, Embedding.vector)
                    .where(Embedding.model == self.model, Embedding.id > last)
                    .order_by(Embedding.id).limit(chunk))
            if since is not None:
                stmt = stmt.where(Embedding.created_at >= since)
            rows = db.execute(stmt).all()
            if not rows:
                return
            matrix = np.frombuffer(b"".join(r[3] for r in rows), dtype="<f4").astype(np.float32)
            yield [r[1] for r in rows], [r[2] for r in rows], matrix.reshape(len(rows), -1)
            last = rows[-1][0]

    def _catch_up(self, db: Session, newest: dt.datetime) -> int:
        assert self._store is not None
        since = self.watermark - MARGIN if self.watermark is not None else None
        added = 0
        for pids, stamps, matrix in self._rows(db, since):
            keep = []
            for i, (pid, stamp) in enumerate(zip(pids, stamps, strict=True)):
                seen = self._delta_stamps.get(pid)
                in_base = (pid in self._position and seen is None and self._base_watermark is not None
                           and stamp <= self._base_watermark)
                if in_base or seen == stamp:
                    continue  # this exact vector is already in the index
                keep.append(i)
                self._delta_stamps[pid] = stamp
            if keep:
                added += self._append([pids[i] for i in keep], matrix[keep])
        self.watermark = newest
        return added

    def _append(self, pids: list[int], matrix: np.ndarray) -> int:
        assert self._store is not None
        if matrix.shape[1] != self._store.dim:
            log.warning("ignoring %d vectors of dimension %d (index has %d)", len(pids),
                        matrix.shape[1], self._store.dim)
            return 0
        start = self._store.size
        for offset, pid in enumerate(pids):
            old = self._position.get(pid)
            if old is not None:
                self._stale.add(old)
            self._position[pid] = start + offset
        self._store.add(np.asarray(pids, dtype=np.int64), np.ascontiguousarray(matrix))
        return len(pids)

    def _build(self, db: Session, newest: dt.datetime | None, *,
               progress: Callable[[int], None] | None = None) -> int:
        total = db.scalar(select(func.count()).select_from(Embedding).where(Embedding.model == self.model)) or 0
        batches = ((pids, matrix) for pids, _stamps, matrix in self._rows(db, None))
        return self.build_from(batches, total=total, watermark=newest, progress=progress)

    def build_from(self, batches: Iterable[tuple[list[int], np.ndarray]], *, total: int,
                   watermark: dt.datetime | None, progress: Callable[[int], None] | None = None) -> int:
        """Replace the index with these ``(paper_ids, vectors)`` batches and persist it.

        ``total`` decides exact search or HNSW; ``watermark`` is the newest ``created_at`` they cover.
        """
        self._store, self._position, self._stale, self._delta_stamps = None, {}, set(), {}
        added = 0
        for pids, matrix in batches:
            if self._store is None:
                self._store = _Store(matrix.shape[1], hnsw=total > self.exact_max, **self.hnsw_params)
            added += self._append(pids, matrix)
            if progress:
                progress(len(pids))
        self.watermark = self._base_watermark = watermark
        if self._store is not None:
            self._save()
        return added

    def rebuild(self, db: Session, *, progress: Callable[[int], None] | None = None) -> int:
        """Build from the table again and persist; returns the number of vectors."""
        with self._lock:
            return self._build(db, self._newest(db), progress=progress)

    # -- persistence ---------------------------------------------------------------------------

    def _save(self) -> None:
        store = self._store
        assert store is not None
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "ids.npy", store.ids[: store.size], allow_pickle=False)
        np.save(tmp / "stale.npy", np.asarray(sorted(self._stale), dtype=np.int64), allow_pickle=False)
        if store.hnsw is not None:
            import faiss

            faiss.write_index(store.hnsw, str(tmp / "hnsw.faiss"))
        else:
            np.save(tmp / "vectors.npy", store.matrix[: store.size], allow_pickle=False)
        (tmp / "params.json").write_text(json.dumps({
            "version": INDEX_VERSION, "model": self.model, "dim": store.dim, "size": store.size,
            "kind": self.kind, "watermark": self.watermark.isoformat() if self.watermark else None}))
        old = self.path.with_name(self.path.name + f".old{os.getpid()}")
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(tmp, self.path)
        shutil.rmtree(old, ignore_errors=True)

    def _load(self) -> bool:
        try:
            params = json.loads((self.path / "params.json").read_text())
            if params.get("version") != INDEX_VERSION or params.get("model") != self.model:
                return False
            ids = np.load(self.path / "ids.npy", allow_pickle=False)
            stale = np.load(self.path / "stale.npy", allow_pickle=False)
            store = _Store(params["dim"], hnsw=False, **self.hnsw_params)
            if params["kind"] == "hnsw":
                import faiss

                store.hnsw = faiss.read_index(str(self.path / "hnsw.faiss"))
                store.hnsw.hnsw.efSearch = self.hnsw_params["ef_search"]
                store.ids, store.size = ids.astype(np.int64), len(ids)
            else:
                store.add(ids, np.load(self.path / "vectors.npy", allow_pickle=False))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.info("vector index at %s not loaded (%s); building it from the database", self.path, exc)
            return False
        self._store = store
        self._stale = {int(s) for s in stale}
        self._position = {int(pid): pos for pos, pid in enumerate(ids) if pos not in self._stale}
        self._delta_stamps = {}
        mark = params.get("watermark")
        self.watermark = self._base_watermark = dt.datetime.fromisoformat(mark) if mark else None
        return True

    # -- queries -----------------------------------------------------------------------------

    def search(self, query: np.ndarray, *, limit: int) -> list[tuple[int, float]]:
        """``(paper_id, cosine)`` of the ``limit`` nearest papers, best first."""
        store = self._store
        if store is None or limit <= 0:
            return []
        with self._lock:  # faiss must not search while sync adds to the graph
            positions, scores = store.top(np.asarray(query, dtype=np.float32), limit + len(self._stale))
        out = []
        for pos, score in zip(positions.tolist(), scores.tolist(), strict=True):
            if pos not in self._stale:
                out.append((int(store.ids[pos]), float(score)))
                if len(out) == limit:
                    break
        return out

    def vectors_of(self, paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The current vectors of the given papers (those that have one)."""
        store = self._store
        if store is None:
            return {}
        found = [(pid, self._position[pid]) for pid in paper_ids if pid in self._position]
        if not found:
            return {}
        with self._lock:
            vectors = store.vectors_at(np.asarray([pos for _, pos in found]))
        return {pid: vectors[i] for i, (pid, _) in enumerate(found)}
