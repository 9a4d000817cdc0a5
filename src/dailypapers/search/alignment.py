"""Sentence-level matching of two papers (or a query and a paper), and what it shows as a reason.

Each abstract's sentences are embedded once (``sentences.py`` splits them); two papers are then
compared by their sentence pairs instead of one vector each, as otAspire does (Mysore, Cohan, Hope,
"Multi-Vector Models with Textual Guidance for Fine-Grained Scientific Document Similarity",
NAACL 2022): an optimal-transport alignment (entropic, Sinkhorn; uniform weight per sentence)
spreads each sentence of one paper over the sentences of the other that say the same thing, and
the similarity is the transported cosine. ``best_match`` is the cheaper variant: each sentence of
the query paper takes its single best counterpart. Both are pure numpy over small matrices
(~7 × 7 sentences): microseconds per pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Entropy of the transport plan in cosine units: smaller is closer to a hard one-to-one matching.
OT_EPSILON = 0.02
OT_ITERATIONS = 30


def best_match(query: np.ndarray, other: np.ndarray) -> float:
    """Mean over the query's sentences of their best cosine with a sentence of ``other``."""
    if not len(query) or not len(other):
        return 0.0
    return float((query @ other.T).max(axis=1).mean())


def transport(query: np.ndarray, other: np.ndarray, *, epsilon: float = OT_EPSILON) -> float:
    """Cosine similarity transported by the entropic optimal plan between the two sentence sets."""
    return transport_many(query, [other], epsilon=epsilon)[0]


def transport_many(query: np.ndarray, others: list[np.ndarray], *, epsilon: float = OT_EPSILON) -> list[float]:
    """``transport(query, other)`` for every one of ``others`` at once: their sentences padded to
    the longest and the Sinkhorn iterations run as batched matrix products (60 candidates:
    ~1 ms instead of ~15 ms one by one)."""
    if not len(query) or not others:
        return [0.0] * len(others)
    width = max(len(other) for other in others)
    if width == 0:
        return [0.0] * len(others)
    stacked = np.zeros((len(others), width, query.shape[1]), dtype=np.float32)
    columns = np.zeros((len(others), width))
    for c, other in enumerate(others):
        stacked[c, :len(other)] = other
        columns[c, :len(other)] = 1.0 / len(other) if len(other) else 0.0
    sims = np.einsum("qd,cwd->cqw", query, stacked).astype(np.float64)  # candidates × query × theirs
    valid = columns > 0
    top = np.where(valid[:, None, :], sims, -np.inf).max(axis=(1, 2), keepdims=True)
    kernel = np.where(valid[:, None, :], np.exp((sims - np.where(np.isfinite(top), top, 0.0)) / epsilon), 0.0)
    rows = np.full((len(others), len(query)), 1.0 / len(query))
    u = np.ones_like(rows)
    v = np.zeros_like(columns)
    for _ in range(OT_ITERATIONS):
        v = columns / (np.einsum("cqw,cq->cw", kernel, u) + 1e-300)
        u = rows / (np.einsum("cqw,cw->cq", kernel, v) + 1e-300)
    plan = u[:, :, None] * kernel * v[:, None, :]
    totals = (plan * np.where(valid[:, None, :], sims, 0.0)).sum(axis=(1, 2))
    return [float(t) if len(other) else 0.0 for t, other in zip(totals, others, strict=True)]


def title_and_sentences(rows: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """A stored row taken apart: the title's vector (``None`` when the paper has no title, or for
    a row of one vector, which holds no title) and the abstract's sentence vectors."""
    if len(rows) < 2:
        return None, rows
    title = rows[0]
    return (title if bool(np.any(title)) else None), rows[1:]


@dataclass(frozen=True)
class MatchedSentence:
    """One reason a paper matched: its sentence and the query's (``None`` for a text query)."""

    sentence: int  # index into the matched paper's sentences
    query_sentence: int | None
    similarity: float


def explain(query: np.ndarray, other: np.ndarray, *, top: int = 2) -> list[MatchedSentence]:
    """The ``top`` best sentence pairs, at most one per sentence of ``other``, best first."""
    if not len(query) or not len(other):
        return []
    sims = query @ other.T
    best_query = sims.argmax(axis=0)
    best = sims.max(axis=0)
    order = np.argsort(-best, kind="stable")[:top]
    single = len(query) == 1
    return [MatchedSentence(sentence=int(j), query_sentence=None if single else int(best_query[j]),
                            similarity=round(float(best[j]), 3)) for j in order]


#: Weights of the similar-papers fusion over the candidates (z-scored within them): the whole-
#: abstract cosine, the sentence alignment, the keyword rank, the title cosine. Chosen on
#: CSFCube's dev folds (the title's 0.5: both folds' choice with the cosine weight kept largest);
#: docs/search.md "Sentence-level matching" has the cross-validated figures (60.99 / 61.68).
SIMILAR_WEIGHTS = (1.5, 0.75, 0.375, 0.5)


def _zscores(values: np.ndarray) -> np.ndarray:
    # A constant column (every candidate at the average) can have a std of ~1e-16 from rounding:
    # dividing by it would turn rounding noise into full-size scores.
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def _column(scores: dict[int, float], candidates: list[int]) -> np.ndarray:
    """A score per candidate; a candidate without one (not embedded yet) counts as average."""
    average = float(np.mean(list(scores.values()))) if scores else 0.0
    return np.array([scores.get(pid, average) for pid in candidates], dtype=np.float64)


def similar_scores(candidates: list[int], *, cosine: dict[int, float], aligned: dict[int, float],
                   keyword: list[int], title: dict[int, float] | None = None,
                   weights: tuple[float, float, float, float] = SIMILAR_WEIGHTS) -> np.ndarray:
    """Each candidate's fused score: the weighted sum of the z-scores (over the candidates) of its
    whole-abstract cosine, its sentence alignment, its keyword rank ((n - position) / n, 0 when
    the keyword list misses it) and its title's cosine with the paper's title. A candidate
    missing a score (its sentences not embedded yet, no title) counts as average there."""
    position = {pid: i for i, pid in enumerate(keyword)}
    n = max(len(keyword), 1)
    columns = [_column(cosine, candidates), _column(aligned, candidates),
               np.array([(n - position[pid]) / n if pid in position else 0.0 for pid in candidates]),
               _column(title or {}, candidates)]
    return np.asarray(sum(w * _zscores(col) for w, col in zip(weights, columns, strict=True)))


def fuse_similar(candidates: list[int], *, cosine: dict[int, float], aligned: dict[int, float],
                 keyword: list[int], title: dict[int, float] | None = None,
                 weights: tuple[float, float, float, float] = SIMILAR_WEIGHTS) -> list[int]:
    """``candidates`` re-ranked by ``similar_scores``, best first (scores, not ranks: a close second
    by meaning stays close; ties keep the candidates' order)."""
    if not candidates:
        return []
    total = similar_scores(candidates, cosine=cosine, aligned=aligned, keyword=keyword, title=title,
                           weights=weights)
    order = np.argsort(-total, kind="stable")
    return [candidates[i] for i in order]


#: Weights of the text-query re-ranking over the top hybrid candidates (z-scored within them): the
#: hybrid (RRF) rank, the query's cosine with the candidate's closest sentence, the whole-abstract
#: cosine, the query's cosine with the candidate's title. Chosen on the dev split of
#: bench/data/hf_queries_heldout.jsonl (a grid of 375 with the depth; the title's weight came out
#: 0): MRR@10 dev 0.746 → 0.752, test 0.572 → 0.612 (docs/search.md, "Search (text queries)").
QUERY_WEIGHTS = (1.0, 0.25, 0.25, 0.0)


def fuse_query(candidates: list[int], *, sentence: dict[int, float], cosine: dict[int, float],
               title: dict[int, float] | None = None,
               weights: tuple[float, float, float, float] = QUERY_WEIGHTS) -> list[tuple[int, float]]:
    """``candidates`` (in hybrid order) with their fused scores, best first: the weighted z-scores
    of their hybrid rank, their best sentence cosine with the query, their whole-abstract cosine
    and their title's cosine with the query (the query is written without the title, so the title
    is fair evidence). A candidate missing a score (no sentence vectors yet, no title) counts as
    average there; equal scores keep hybrid order."""
    if not candidates:
        return []
    n = len(candidates)
    columns = [np.array([(n - i) / n for i in range(n)], dtype=np.float64),
               _column(sentence, candidates), _column(cosine, candidates), _column(title or {}, candidates)]
    total = np.zeros(n)
    for w, col in zip(weights, columns, strict=True):
        total += w * _zscores(col)
    order = np.argsort(-total, kind="stable")
    return [(candidates[i], float(total[i])) for i in order]
