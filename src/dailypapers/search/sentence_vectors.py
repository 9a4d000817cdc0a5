"""Sentence vectors (issue 15): each paper's abstract sentences embedded once, for sentence-level
matching of similar papers and searches, and for showing which sentences matched.

``dailypapers embed`` computes them after the whole-abstract vectors, in resumable batches (one
transaction each), claimed like those so several workers share the work. A paper needs (new)
sentence vectors when it has none or its split changed (``sentences_hash``). Until then it is
matched by its whole-abstract vector and keywords only: nothing waits for them.

Stored as one row per paper and model: ``count × dim`` float16 (the half-precision values change
CSFCube NDCG%20 by less than 0.01, docs/search.md). The row's first vector is the paper's title
(zeros for a paper without one), the abstract's sentences follow (``sentences.paper_items``);
``alignment.title_and_sentences`` takes a row apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from dailypapers.search.embedder import EmbedResult, _candidate_batches, _candidates
from dailypapers.search.encoder import EmbeddingProvider
from dailypapers.search.sentences import paper_items, sentences_hash
from dailypapers.store import Paper, SentenceEmbedding
from dailypapers.store.base import utcnow

#: A paper's sentences are embedded this many at a time (short texts: wider batches pad little).
SENTENCE_BATCH = 64


def count_sentence_candidates(*, db: Session, model: str) -> int:
    """Papers that may need sentence vectors (an upper bound of the work)."""
    return db.scalar(select(func.count()).select_from(_candidates(model, SentenceEmbedding).subquery())) or 0


def _store(db: Session, model: str, rows: Sequence[tuple[int, str, np.ndarray]]) -> None:
    existing = set(db.scalars(select(SentenceEmbedding.paper_id).where(
        SentenceEmbedding.model == model, SentenceEmbedding.paper_id.in_([pid for pid, _, _ in rows]))))
    now = utcnow()
    fresh = []
    for pid, digest, vectors in rows:
        values = {"paper_id": pid, "model": model, "content_hash": digest, "count": int(vectors.shape[0]),
                  "dim": int(vectors.shape[1]), "vectors": np.asarray(vectors, dtype="<f2").tobytes(),
                  "created_at": now}
        if pid in existing:
            db.execute(update(SentenceEmbedding).where(SentenceEmbedding.paper_id == pid,
                                                       SentenceEmbedding.model == model).values(**values))
        else:
            fresh.append(values)
    if fresh:
        db.execute(insert(SentenceEmbedding), fresh)


def embed_sentences_pending(*, db: Session, provider: EmbeddingProvider, batch_size: int = 256,
                            limit: int | None = None, progress: Callable[[int], None] | None = None) -> EmbedResult:
    """Embed the sentences of every paper whose sentence vectors are missing or stale."""
    model = provider.model
    result = EmbedResult()
    done = 0
    for ids in _candidate_batches(db, model, batch_size, SentenceEmbedding):
        if limit is not None and done >= limit:
            break
        ids = ids[: limit - done] if limit is not None else ids
        papers = db.execute(select(Paper.id, Paper.title, Paper.abstract).where(Paper.id.in_(ids))).all()
        stored = dict(db.execute(select(SentenceEmbedding.paper_id, SentenceEmbedding.content_hash).where(
            SentenceEmbedding.model == model, SentenceEmbedding.paper_id.in_(ids))).all())
        todo: list[tuple[int, str, list[str]]] = []
        confirmed: list[int] = []
        for pid, title, abstract in papers:
            items = paper_items(title or "", abstract or "")
            digest = sentences_hash(items)
            if stored.get(pid) == digest or not items:
                confirmed.append(pid)
            else:
                todo.append((pid, digest, items))
        # An empty title is not embedded: its row keeps a zero vector (no title score).
        flat = [text for _, _, items in todo for text in items if text]
        vectors = provider.embed_documents(flat) if flat else np.zeros((0, 0), np.float32)
        rows, at = [], 0
        for pid, digest, items in todo:
            row = np.zeros((len(items), vectors.shape[1]), np.float32)
            for i, text in enumerate(items):
                if text:
                    row[i] = vectors[at]
                    at += 1
            rows.append((pid, digest, row))
        try:
            if rows:
                _store(db, model, rows)
            if confirmed:
                db.execute(update(SentenceEmbedding).where(SentenceEmbedding.model == model,
                                                           SentenceEmbedding.paper_id.in_(confirmed))
                           .values(created_at=utcnow()))
            db.commit()
        except Exception:
            db.rollback()
            raise
        result.embedded += len(todo)
        result.unchanged += len(confirmed)
        done += len(ids)
        if progress:
            progress(len(ids))
    return result


def sentence_vectors_of(*, db: Session, model: str, paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """The stored rows (float32: the title's vector, then one per sentence) of the papers that
    have them; ``alignment.title_and_sentences`` takes one apart."""
    ids = list(paper_ids)
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), 500):
        rows = db.execute(select(SentenceEmbedding.paper_id, SentenceEmbedding.count, SentenceEmbedding.dim,
                                 SentenceEmbedding.vectors)
                          .where(SentenceEmbedding.model == model,
                                 SentenceEmbedding.paper_id.in_(ids[start:start + 500])))
        for pid, count, dim, blob in rows:
            out[pid] = np.frombuffer(blob, dtype="<f2").astype(np.float32).reshape(count, dim)
    return out
