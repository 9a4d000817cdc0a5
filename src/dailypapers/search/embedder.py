"""``dailypapers embed``: compute the vectors that are missing or stale, in resumable batches.

A paper needs a (new) vector for a model when it has none, or when its title or abstract changed
since (its content hash differs). Candidates are the papers without a vector and the papers
modified after their vector was written; the hash then decides, so an upvote (which touches
``modified_at``) never costs an embedding. Each batch is one transaction: an interrupted run
keeps what it finished and the next run goes on from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from dailypapers.search.documents import content_hash, embedding_text
from dailypapers.search.encoder import EmbeddingProvider
from dailypapers.store import Embedding, Paper, SentenceEmbedding
from dailypapers.store.base import utcnow
from dailypapers.store.claims import try_claim


@dataclass
class EmbedResult:
    embedded: int = 0  # computed by the model
    reused: int = 0  # taken from the bundled sample vectors (same model, same text)
    unchanged: int = 0  # checked: the text had not changed

    def summary(self) -> str:
        return f"{self.embedded} embedded, {self.reused} from the bundled sample, {self.unchanged} unchanged"


def _candidates(model: str, table: type[Embedding] | type[SentenceEmbedding] = Embedding):  # type: ignore[no-untyped-def]
    e = table
    return (select(Paper.id).select_from(Paper)
            .outerjoin(e, and_(e.paper_id == Paper.id, e.model == model))
            .where(or_(e.id.is_(None), Paper.modified_at > e.created_at)))


def count_candidates(*, db: Session, model: str) -> int:
    """Papers that may need a vector (an upper bound of the work ``embed_pending`` will do)."""
    return db.scalar(select(func.count()).select_from(_candidates(model).subquery())) or 0


def _candidate_batches(db: Session, model: str, batch: int,
                       table: type[Embedding] | type[SentenceEmbedding] = Embedding) -> Iterator[list[int]]:
    """Batches of candidate ids claimed by this worker until the caller commits the batch.

    Several ``embed`` processes may run at once on PostgreSQL: each skips the papers another
    one holds (``store.claims``) and goes on to the next ones, and a claimed paper is read again
    as a candidate, since its previous holder may have embedded it just before.
    """
    last = 0
    while True:
        ids = list(db.scalars(_candidates(model, table).where(Paper.id > last).order_by(Paper.id).limit(batch)))
        if not ids:
            return
        last = ids[-1]
        namespace = f"embed:{model}" if table is Embedding else f"embed-sentences:{model}"
        claimed = try_claim(db=db, namespace=namespace, ids=ids)
        mine = list(db.scalars(_candidates(model, table).where(Paper.id.in_(claimed))
                               .order_by(Paper.id))) if claimed else []
        if mine:
            yield mine


def store_vectors(*, db: Session, model: str, rows: Sequence[tuple[int, str, np.ndarray]]) -> None:
    """Insert or replace the ``(paper_id, content_hash, vector)`` rows of ``model`` (no commit)."""
    if not rows:
        return
    now = utcnow()
    existing = set(db.scalars(select(Embedding.paper_id).where(
        Embedding.model == model, Embedding.paper_id.in_([pid for pid, _, _ in rows]))))
    fresh: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for pid, digest, vector in rows:
        values = {"paper_id": pid, "model": model, "content_hash": digest, "dim": int(vector.shape[0]),
                  "vector": np.asarray(vector, dtype="<f4").tobytes(), "created_at": now}
        (changed if pid in existing else fresh).append(values)
    if fresh:
        db.execute(insert(Embedding), fresh)
    for values in changed:
        db.execute(update(Embedding).where(Embedding.paper_id == values["paper_id"],
                                           Embedding.model == model).values(**values))


def embed_pending(
    *,
    db: Session,
    provider: EmbeddingProvider,
    batch_size: int = 32,
    limit: int | None = None,
    bundled: dict[str, np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
) -> EmbedResult:
    """Embed every paper whose vector for ``provider.model`` is missing or stale (at most ``limit``).

    ``bundled`` maps content hashes to vectors already computed for this model (the sample).
    """
    model = provider.model
    result = EmbedResult()
    done = 0
    for ids in _candidate_batches(db, model, batch_size):
        if limit is not None and done >= limit:
            break
        ids = ids[: limit - done] if limit is not None else ids
        papers = db.execute(select(Paper.id, Paper.title, Paper.abstract).where(Paper.id.in_(ids))).all()
        stored = dict(db.execute(select(Embedding.paper_id, Embedding.content_hash).where(
            Embedding.model == model, Embedding.paper_id.in_(ids))).all())
        todo: list[tuple[int, str, str]] = []
        rows: list[tuple[int, str, np.ndarray]] = []
        confirmed: list[int] = []
        for pid, title, abstract in papers:
            digest = content_hash(title or "", abstract or "")
            if stored.get(pid) == digest:
                confirmed.append(pid)
            elif bundled is not None and digest in bundled:
                rows.append((pid, digest, bundled[digest]))
                result.reused += 1
            else:
                todo.append((pid, digest, embedding_text(title or "", abstract or "")))
        if todo:
            vectors = provider.embed_documents([text for _, _, text in todo])
            rows += [(pid, digest, vec) for (pid, digest, _), vec in zip(todo, vectors, strict=True)]
            result.embedded += len(todo)
        try:
            store_vectors(db=db, model=model, rows=rows)
            if confirmed:
                # The text is the same: mark the vector as current so the paper stops being a candidate.
                db.execute(update(Embedding).where(Embedding.model == model,
                                                   Embedding.paper_id.in_(confirmed))
                           .values(created_at=utcnow()))
            db.commit()
        except Exception:
            db.rollback()
            raise
        result.unchanged += len(confirmed)
        done += len(ids)
        if progress:
            progress(len(ids))
    return result
