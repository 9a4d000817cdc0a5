"""Why a paper matched (issue 15): the sentences that did, from the stored sentence vectors.

Similar papers: each candidate's sentence that is closest to one of the paper's own sentences,
with that sentence. A text query: the hit's sentence closest to the query. Nothing is embedded
here (the query vector is the search's own), so an explanation costs one read of the papers'
sentence rows and a few small matrix products; papers without sentence vectors get none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.search.alignment import explain
from dailypapers.search.engine import SearchEngine
from dailypapers.search.sentence_vectors import sentence_vectors_of
from dailypapers.search.sentences import paper_sentences
from dailypapers.store import Paper

#: Matched sentences shown per paper.
REASONS = 2


@dataclass(frozen=True)
class Reason:
    sentence: str  # the matched paper's sentence
    query_sentence: str | None  # the sentence of the paper it is similar to (None for a text query)
    similarity: float  # cosine of the two sentences (or of the sentence and the query)


def _sentences(db: Session, engine: SearchEngine,
               paper_ids: Sequence[int]) -> dict[int, tuple[list[str], np.ndarray]]:
    """Each paper's abstract sentences with their stored vectors, when they agree (same split).
    The row's title vector is left out: a title is not a matched *sentence* of the abstract."""
    if not engine.settings.search_sentences or not paper_ids:
        return {}
    vectors = sentence_vectors_of(db=db, model=engine.model, paper_ids=paper_ids)
    if not vectors:
        return {}
    texts = db.execute(select(Paper.id, Paper.title, Paper.abstract).where(Paper.id.in_(list(vectors))))
    out = {}
    for pid, title, abstract in texts:
        sentences = paper_sentences(title or "", abstract or "")
        # Title first, then the sentences; a row of another length was computed from another text
        # (or layout) since `embed` last ran: no reason until it runs again.
        if len(vectors[pid]) == len(sentences) + 1:
            out[pid] = (sentences, vectors[pid][1:])
    return out


def explain_similar(*, db: Session, engine: SearchEngine, paper_id: int,
                    other_ids: Sequence[int]) -> dict[int, list[Reason]]:
    """For each of ``other_ids``, its sentences closest to ``paper_id``'s, best first."""
    if not other_ids:
        return {}
    found = _sentences(db, engine, [paper_id, *other_ids])
    if paper_id not in found:
        return {}
    mine, mine_vectors = found[paper_id]
    out: dict[int, list[Reason]] = {}
    for pid in other_ids:
        if pid in found:
            theirs, vectors = found[pid]
            out[pid] = [Reason(theirs[m.sentence], None if m.query_sentence is None else mine[m.query_sentence],
                               m.similarity) for m in explain(mine_vectors, vectors, top=REASONS)]
    return out


def explain_query(*, db: Session, engine: SearchEngine, vector: np.ndarray | None,
                  paper_ids: Sequence[int]) -> dict[int, list[Reason]]:
    """For each hit of a text query, its sentence closest to the query, if close in meaning
    (at least ``search_semantic_floor``)."""
    if vector is None:
        return {}
    floor = engine.settings.search_semantic_floor
    out: dict[int, list[Reason]] = {}
    for pid, (sentences, vectors) in _sentences(db, engine, paper_ids).items():
        reasons = [Reason(sentences[m.sentence], None, m.similarity)
                   for m in explain(vector.reshape(1, -1), vectors, top=1) if m.similarity >= floor]
        if reasons:
            out[pid] = reasons
    return out
