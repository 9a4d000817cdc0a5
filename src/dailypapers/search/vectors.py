"""The meaning side: nearest neighbours over one model's vectors from the ``embeddings`` table.

Up to ``exact_max`` vectors the search is exact (one matrix product, ~1 ms at 20k); above that an
inverted-file index (faiss ``IndexIVFFlat``, inner product on unit vectors = cosine): the vectors
are partitioned around ~4·√n k-means centroids and a query scans the full-precision vectors of its
``IVF_NPROBE`` nearest partitions, so the scores are exact and only the partitioning can miss a
neighbour. At 1M (bench/search_latency.py, docs/search.md) it found all of the exact 10 nearest
(recall@10 1.0) in ~1.6 ms, where faiss HNSW (M=16, efSearch 200) found 0.84 in 1.4 ms, and its
build took 97 s of CPU instead of 319 s. Built artefacts are plain files under
``data_dir/search/vectors/<model>/`` (``ids.npy``, ``vectors.npy`` or ``ivf.faiss``,
``params.json`` with a version; no pickle).

The table is the truth: ``sync`` asks for the newest ``created_at`` of the model (an indexed
``max``) and adds every vector written since the index's watermark before a query is answered.
A changed vector is appended (to its nearest partition) and its old position hidden; deleted
papers drop out when results are loaded from the database. ``rebuild`` starts again from the
table (and partitions again: a graph that grew tenfold since is best rebuilt). ``params.json``
names the catalog the index was built from (``store.catalog_identity``): an index of another
database (one deleted and created again at the same URL) is not loaded but built again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
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
from dailypapers.store.catalog_identity import catalog_id_column

log = logging.getLogger(__name__)

INDEX_VERSION = 2  # 1 was HNSW: such an index is rebuilt from the table on first use
MARGIN = dt.timedelta(seconds=5)
#: Partitions scanned per query. At 1M (4,096 partitions of ~244 vectors; the bench's synthetic
#: vectors, 200 nearest asked for): 8 found 0.967 of the exact 10 nearest in 0.97 ms, 16 0.993 in
#: 1.18 ms, 24 1.000 (and 0.995 of the exact 200) in 1.55 ms, 32 1.000 in 1.83 ms. 24 keeps a margin
#: for collections that partition less cleanly than these.
IVF_NPROBE = 24
#: k-means training points per partition (faiss asks for at least 39) and iterations.
IVF_TRAIN_PER_LIST = 40
IVF_TRAIN_ITERATIONS = 10


def ivf_lists(total: int) -> int:
    """Partitions for ``total`` vectors: ~4·√n rounded to a power of two (4,096 at 1M, 1,024 at
    100k), never more than the training points allow (1 for a handful: then it is exact)."""
    if total <= 0:
        return 1
    lists = int(2 ** round(math.log2(max(1.0, 4 * math.sqrt(total)))))
    return max(1, min(lists, total // IVF_TRAIN_PER_LIST))


class _Store:
    """Vectors by position (exact matrix or IVF index) plus the paper id at each position.

    An IVF store is trained once, on a sample of everything given before ``finish`` (the build),
    so it collects the build's batches until then; later ``add`` calls go straight in.
    """

    def __init__(self, dim: int, *, lists: int | None) -> None:
        self.dim = dim
        self.ivf: Any = None
        self.lists = lists
        self._pending: list[np.ndarray] | None = [] if lists else None
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self._blas: Any = None
        self.size = 0
        self.ids = np.zeros(0, dtype=np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        n = len(ids)
        if self._pending is not None:
            self._pending.append(np.array(vectors, dtype=np.float32))
        elif self.ivf is not None:
            self.ivf.add(vectors)
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

    def finish(self) -> None:
        """Train the IVF partitions on a sample of the collected vectors and add them all."""
        if self._pending is None:
            return
        import faiss

        pending, self._pending = self._pending, None
        lists = max(1, min(self.lists or 1, self.size // IVF_TRAIN_PER_LIST))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, lists, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = IVF_TRAIN_ITERATIONS
        index.cp.min_points_per_centroid = 1  # a small collection is fine (its 1-2 lists are exact)
        # A fixed seed: the same vectors give the same partitions (and the same answers) every build.
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(self.size, min(self.size, lists * IVF_TRAIN_PER_LIST), replace=False))
        if self.size:
            starts = np.cumsum([0] + [len(m) for m in pending])
            chunk = np.searchsorted(starts, sample, side="right") - 1
            index.train(np.stack([pending[c][i - starts[c]] for c, i in zip(chunk, sample, strict=True)]))
        index.set_direct_map_type(faiss.DirectMap.Array)  # type: ignore[attr-defined]  # vectors_at: by position
        while pending:
            index.add(pending.pop(0))  # each batch freed once added: peak memory stays ~ one copy
        self.use(index)

    def use(self, index: Any) -> None:
        """Answer from this trained IVF index (just built, or read from disk)."""
        index.nprobe = min(IVF_NPROBE, index.nlist)
        self.ivf, self.lists = index, index.nlist

    def top(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, scores) of the ``k`` best positions, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if self.ivf is not None:
            scores, positions = self.ivf.search(query.reshape(1, -1), k)
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
        if self.ivf is not None:
            return np.asarray(self.ivf.reconstruct_batch(positions.astype(np.int64)))
        return np.asarray(self.matrix[positions])


class VectorIndex:
    """One model's vectors, kept in step with the ``embeddings`` table; safe to share between threads."""

    thread_safe = True

    def __init__(self, path: Path, *, model: str, exact_max: int = 20_000) -> None:
        self.path = path
        self.model = model
        self.exact_max = exact_max
        self._lock = threading.Lock()
        self._store: _Store | None = None
        self._position: dict[int, int] = {}
        self._stale: set[int] = set()
        self.watermark: dt.datetime | None = None
        self._base_watermark: dt.datetime | None = None
        self._delta_stamps: dict[int, dt.datetime] = {}
        self.catalog: str | None = None

    @property
    def count(self) -> int:
        return len(self._position)

    @property
    def kind(self) -> str:
        return "none" if self._store is None else ("ivf" if self._store.lists else "exact")

    def index_params(self, *, total: int) -> dict[str, object]:
        """What a build of ``total`` vectors makes: exact, or IVF with its partitions and probes."""
        if total <= self.exact_max:
            return {"kind": "exact"}
        lists = ivf_lists(total)
        return {"kind": "ivf", "lists": lists, "nprobe": min(IVF_NPROBE, lists),
                "train_per_list": IVF_TRAIN_PER_LIST, "iterations": IVF_TRAIN_ITERATIONS}

    def load(self) -> bool:
        """Load the saved index (without the database); False when there is none for this model."""
        with self._lock:
            return self._load(catalog=None, any_catalog=True)

    # -- keeping in step ---------------------------------------------------------------------

    def _newest(self, db: Session) -> tuple[dt.datetime | None, str | None]:
        """The newest ``created_at`` of the model and the catalog's id, in one round trip."""
        newest = (select(func.max(Embedding.created_at)).where(Embedding.model == self.model)
                  .scalar_subquery())
        row = db.execute(select(newest, catalog_id_column())).one()
        return row[0], row[1]

    def sync(self, db: Session) -> int:
        """Load or catch up; returns how many vectors were added. Cheap when nothing changed."""
        newest, catalog = self._newest(db)
        if self._store is not None and catalog == self.catalog and newest == self.watermark:
            return 0
        with self._lock:
            if self._store is not None and catalog != self.catalog:
                log.info("vector index was built from another database; building it again")
                return self._build(db, newest, catalog)
            if self._store is None and not self._load(catalog=catalog):
                return self._build(db, newest, catalog)
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

    def _build(self, db: Session, newest: dt.datetime | None, catalog: str | None, *,
               progress: Callable[[int], None] | None = None) -> int:
        total = db.scalar(select(func.count()).select_from(Embedding).where(Embedding.model == self.model)) or 0
        batches = ((pids, matrix) for pids, _stamps, matrix in self._rows(db, None))
        return self.build_from(batches, total=total, watermark=newest, progress=progress, catalog=catalog)

    def build_from(self, batches: Iterable[tuple[list[int], np.ndarray]], *, total: int,
                   watermark: dt.datetime | None, progress: Callable[[int], None] | None = None,
                   catalog: str | None = None) -> int:
        """Replace the index with these ``(paper_ids, vectors)`` batches and persist it.

        ``total`` decides exact search or IVF; ``watermark`` is the newest ``created_at`` they cover;
        ``catalog`` the id of the database they come from.
        """
        self._store, self._position, self._stale, self._delta_stamps = None, {}, set(), {}
        added = 0
        for pids, matrix in batches:
            if self._store is None:
                lists = ivf_lists(total) if total > self.exact_max else None
                self._store = _Store(matrix.shape[1], lists=lists)
            added += self._append(pids, matrix)
            if progress:
                progress(len(pids))
        if self._store is not None:
            self._store.finish()
        self.watermark = self._base_watermark = watermark
        self.catalog = catalog
        if self._store is not None:
            self._save()
        return added

    def rebuild(self, db: Session, *, progress: Callable[[int], None] | None = None) -> int:
        """Build from the table again and persist; returns the number of vectors."""
        with self._lock:
            return self._build(db, *self._newest(db), progress=progress)

    # -- persistence ---------------------------------------------------------------------------

    def _save(self) -> None:
        store = self._store
        assert store is not None
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "ids.npy", store.ids[: store.size], allow_pickle=False)
        np.save(tmp / "stale.npy", np.asarray(sorted(self._stale), dtype=np.int64), allow_pickle=False)
        if store.ivf is not None:
            import faiss

            faiss.write_index(store.ivf, str(tmp / "ivf.faiss"))
        else:
            np.save(tmp / "vectors.npy", store.matrix[: store.size], allow_pickle=False)
        (tmp / "params.json").write_text(json.dumps({
            "version": INDEX_VERSION, "model": self.model, "dim": store.dim, "size": store.size,
            "kind": self.kind, "catalog": self.catalog,
            "watermark": self.watermark.isoformat() if self.watermark else None}))
        old = self.path.with_name(self.path.name + f".old{os.getpid()}")
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(tmp, self.path)
        shutil.rmtree(old, ignore_errors=True)

    def _load(self, *, catalog: str | None, any_catalog: bool = False) -> bool:
        """Read the saved index if it is of this model and (unless ``any_catalog``) of ``catalog``."""
        try:
            params = json.loads((self.path / "params.json").read_text())
            if params.get("version") != INDEX_VERSION or params.get("model") != self.model:
                return False
            if not any_catalog and params.get("catalog") != catalog:
                log.info("vector index at %s was built from another database; building it again",
                         self.path)
                return False
            ids = np.load(self.path / "ids.npy", allow_pickle=False)
            stale = np.load(self.path / "stale.npy", allow_pickle=False)
            store = _Store(params["dim"], lists=None)
            if params["kind"] == "ivf":
                import faiss

                store.use(faiss.read_index(str(self.path / "ivf.faiss")))
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
        self.catalog = params.get("catalog")
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
