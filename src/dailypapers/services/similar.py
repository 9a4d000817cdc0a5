"""A paper page's similar papers, kept per paper and per version of what they are computed from.

Similar papers (keyword more-like-this fused with the nearest vectors, re-ranked by sentences)
and the sentences that explain them were a third of a paper page's CPU, recomputed on every
view although they change only when the catalog does. ``SimilarMemo`` keeps, per worker, the
ids and reasons of a paper's similar papers under a key that holds, besides the paper and the
limit, the catalog's version as one statement reads it in the request's own transaction:

- the newest ``papers.modified_at``: every write of a paper's searchable text (an import, an
  edit, a merge) stamps it (the keyword index catches up by the same stamp);
- the newest ``embeddings.created_at`` of the model: a re-embed, or vectors for new papers;
- the newest ``sentence_embeddings.created_at`` of the model: the sentences that re-rank and
  explain.

Any of those changes gives a new key, so the next view computes afresh, in every worker, on
either database; nothing is invalidated, old entries just fall out (least recently used first).
Only ids and reasons are kept: the cards (titles, counts) and the viewer's votes are loaded on
every view, so a vote shows at once. Two cases are not kept, because the key could not tell:
a version whose newest stamp is under ``MARGIN`` old (a transaction that stamped earlier may
still commit, as the keyword index assumes), and a keyword index that could not catch up (another
process held its writer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.search.keyword import MARGIN
from dailypapers.search.lru import Lru
from dailypapers.services.explain import Reason, explain_similar
from dailypapers.services.papers import PaperCard, load_cards
from dailypapers.services.search import similar_ids
from dailypapers.store import Embedding, Paper, SentenceEmbedding
from dailypapers.store.base import utcnow

Version = tuple[dt.datetime | None, dt.datetime | None, dt.datetime | None]

# Built once (bind parameters): a new select per view costs more to compile-cache than to run.
_VERSION = select(
    select(func.max(Paper.modified_at)).scalar_subquery(),
    select(func.max(Embedding.created_at)).where(Embedding.model == bindparam("model")).scalar_subquery(),
    select(func.max(SentenceEmbedding.created_at))
    .where(SentenceEmbedding.model == bindparam("model")).scalar_subquery(),
)


@dataclass(frozen=True)
class Similar:
    ids: tuple[int, ...]
    reasons: dict[int, list[Reason]]


class SimilarMemo(Lru[tuple[int, int, Version], Similar]):
    """Similar papers by (paper, limit, catalog version), up to ``size`` per worker (a few hundred
    bytes each, reasons included); safe to share between threads."""

    def __init__(self, size: int = 4096) -> None:
        super().__init__(size)


def catalog_version(*, db: Session, engine: SearchEngine) -> Version:
    """What similar papers are computed from, as this transaction sees it (one statement)."""
    row = db.execute(_VERSION, {"model": engine.model}).one()
    return row[0], row[1], row[2]


def similar_for(*, db: Session, engine: SearchEngine, memo: SimilarMemo, card: PaperCard,
                limit: int) -> tuple[list[PaperCard], dict[int, list[Reason]]]:
    """The similar papers of ``card`` (fresh cards) and why each is similar, from ``memo`` when
    the catalog has not changed since they were computed."""
    version = catalog_version(db=db, engine=engine)
    key = (card.id, limit, version)
    found = memo.get(key)
    if found is None:
        ids = similar_ids(db=db, engine=engine, paper_id=card.id, title=card.title, abstract=card.abstract,
                          limit=limit)
        found = Similar(ids=tuple(ids), reasons=explain_similar(db=db, engine=engine, paper_id=card.id,
                                                                other_ids=ids))
        if _keepable(engine, version):
            memo.put(key, found)
    return load_cards(db=db, paper_ids=found.ids), found.reasons


def _keepable(engine: SearchEngine, version: Version) -> bool:
    newest = max((stamp for stamp in version if stamp is not None), default=None)
    if newest is not None and utcnow() - newest < MARGIN:
        return False  # a write stamped just before may not have committed yet
    indexed = engine.keyword.watermark
    # The keyword index answered from an older state (its writer was busy): not this version's.
    return version[0] is None or (indexed is not None and indexed >= version[0])
