"""The lexical half of "For you": each kept paper as its own BM25 query against the candidates.

On bench/recommend.py an author's own vocabulary (method, model and dataset names reused from one
paper to the next) is what finds their next paper: BM25 with the whole profile as one query beat
every vector ranker. One query per kept paper keeps a member's several interests apart (the way
the closest kept paper does for vectors), and gives two features per candidate:

- ``best``: its BM25 score against the kept paper that matches it best;
- ``recent``: the recency-weighted sum of its scores (``recommend.recency_weights``: the newest
  kept papers weigh most);

and a third, ``whole_profile``: BM25 with every kept paper's terms as one query, each term
weighted by how often the profile uses it (the bench's "BM25 profile" baseline, with idf over the
candidates and kept papers instead of the whole dataset). Per-kept-paper queries keep only 30
terms each; the whole profile catches the vocabulary the member comes back to across papers
(bench/recommend.py, docs/site.md).

Each kept paper's scores are divided by its score against itself, so a long kept abstract (many
query terms) does not outweigh a short one, and a candidate sharing only common words scores near
0. Terms come from the keyword index's analyzer (``analysis.py``: lowercased, folded, stemmed,
stop words dropped), titles counted ``TITLE_WEIGHT`` times. ``idf`` and the mean length are those
of the candidates and kept papers ranked together (the product has no corpus-wide statistics at
hand; the bench does the same).

Tokenising 2,000 abstracts costs more than the ranking, so ``BagCache`` keeps the bags by key
(paper id and content hash in the product) and a page view re-tokenises only new papers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dailypapers.search.analysis import STOPWORDS, Analyzers
from dailypapers.search.lru import Lru

K1 = 1.2
B = 0.75
#: Terms per kept paper's query (its most distinctive: highest tf · idf).
QUERY_TERMS = 30
#: A title's words count this many times in a paper's bag (titles name the method).
TITLE_WEIGHT = 2
#: Bags kept in a cache (one per paper: about 1 kB each).
CACHE_SIZE = 20_000

Bag = dict[str, int]


def bag(analyzers: Analyzers, title: str, abstract: str) -> Bag:
    """A paper's terms with their counts (title words ``TITLE_WEIGHT`` times); numbers are left
    out (results such as "95.3" or "2" say nothing of a paper's topic, yet a rare one would match)."""
    counts: Counter[str] = Counter()
    for term in analyzers.terms(title):
        if term not in STOPWORDS and not term.isdigit():
            counts[term] += TITLE_WEIGHT
    for term in analyzers.terms(abstract):
        if term not in STOPWORDS and not term.isdigit():
            counts[term] += 1
    return dict(counts)


@dataclass
class BagCache:
    """Bags by key, the least recently used dropped beyond ``size``; safe across the threads of a
    worker (the lock guards the dictionary, not the tokenising)."""

    size: int = CACHE_SIZE
    analyzers: Analyzers = field(default_factory=Analyzers)
    _bags: Lru[Hashable, Bag] = field(init=False)

    def __post_init__(self) -> None:
        self._bags = Lru(self.size)

    def get(self, key: Hashable) -> Bag | None:
        return self._bags.get(key)

    def bag(self, key: Hashable, title: str, abstract: str) -> Bag:
        found = self._bags.get(key)
        if found is None:
            found = bag(self.analyzers, title, abstract)
            self._bags.put(key, found)
        return found

    def __len__(self) -> int:
        return len(self._bags)


def scores(candidates: Sequence[Bag], kept: Sequence[Bag], *, k1: float = K1, b: float = B) -> np.ndarray:
    """BM25 of each candidate (columns) for each kept paper as a query (rows), each row divided by
    the kept paper's score against itself (so 1 is "as close as the paper to itself" and a
    candidate sharing only common words stays near 0); shape ``(len(kept), len(candidates))``."""
    return _scores(candidates, kept, k1=k1, b=b)[0]


def whole_profile(candidates: Sequence[Bag], kept: Sequence[Bag], *, k1: float = K1, b: float = B) -> np.ndarray:
    """BM25 of each candidate with the kept papers' summed bags as one query (a term the profile
    uses n times counts n times), divided by the best such score of a kept paper; idf and the mean
    length as in ``scores``. Zeros without kept papers."""
    return _scores(candidates, kept, k1=k1, b=b)[1]


def _scores(candidates: Sequence[Bag], kept: Sequence[Bag], *, k1: float,
            b: float) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, whole_profile)`` in one pass over the candidates' terms (the pass is most of the
    cost: the whole profile alone in a second loop added 50-110 ms per page)."""
    out = np.zeros((len(kept), len(candidates)))
    whole = np.zeros(len(candidates))
    if not kept or not candidates:
        return out, whole
    # df over the candidates and the kept papers together, for every term a kept paper uses
    df: Counter[str] = Counter()
    wanted = {term for query in kept for term in query}
    for doc in (*candidates, *kept):
        df.update(term for term in doc if term in wanted)
    n = len(candidates) + len(kept)

    def idf_of(term: str) -> float:
        return math.log(1.0 + (n - df[term] + 0.5) / (df[term] + 0.5))

    # each kept paper's query: its QUERY_TERMS terms of highest tf · idf (Lucene's more-like-this
    # does the same: the words every paper uses add cost, not ranking)
    queries = [sorted(query, key=lambda t: (-query[t] * idf_of(t), t))[:QUERY_TERMS] for query in kept]
    vocab: dict[str, int] = {}
    for terms in queries:
        for term in terms:
            vocab.setdefault(term, len(vocab))
    # then every other term of the profile (the whole-profile query; no kept paper's own query
    # holds them, so they add nothing to ``out``), with how often the profile uses each
    profile: Counter[str] = Counter()
    for query in kept:
        profile.update(query)
    for term in profile:
        vocab.setdefault(term, len(vocab))
    idf = np.array([idf_of(term) for term in vocab])
    uses = np.array([profile[term] for term in vocab], dtype=np.float64)
    mean = max(float(np.mean([sum(doc.values()) for doc in candidates])), 1.0)

    def saturated(tf: float, length: float) -> float:
        return tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * length / mean))

    cols_list: list[int] = []
    weight_list: list[float] = []
    ends = np.zeros(len(candidates) + 1, dtype=np.int64)
    for i, doc in enumerate(candidates):
        length = sum(doc.values())
        for term, tf in doc.items():
            j = vocab.get(term)
            if j is not None:
                cols_list.append(j)
                weight_list.append(saturated(tf, length))
        ends[i + 1] = len(cols_list)
    cols, weights = np.asarray(cols_list, dtype=np.int64), np.asarray(weight_list)
    rows = np.repeat(np.arange(len(candidates)), np.diff(ends))
    whole = np.bincount(rows, weights=weights * (idf * uses)[cols], minlength=len(candidates)).astype(np.float64)
    # scaled like the per-paper scores: 1 is as close to the profile as its most typical kept paper
    # (the best-scoring one), so ``recommend.LEXICAL_FLOOR`` means the same for all three features
    typical = max(sum(idf[vocab[t]] * uses[vocab[t]] * saturated(tf, sum(doc.values())) for t, tf in doc.items())
                  for doc in kept)
    whole = whole / typical if typical > 0 else whole
    # Each (candidate, term) pair adds idf · its saturated tf to every kept paper holding the term:
    # the pairs are repeated once per such kept paper and summed by np.bincount (no dense
    # kept × vocabulary or kept × pairs matrix: ~2M additions for 200 kept papers and 2,000
    # candidates, where a dense product moved ~200 MB).
    kept_terms = [vocab[t] for terms in queries for t in terms]
    kept_of = np.repeat(np.arange(len(kept)), [len(terms) for terms in queries])
    by_term = np.argsort(kept_terms, kind="stable")
    holders = kept_of[by_term]  # kept rows, grouped by term
    counts = np.bincount(np.asarray(kept_terms, dtype=np.int64), minlength=len(vocab))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    repeat = counts[cols]
    if repeat.sum():
        pair = np.repeat(np.arange(len(cols)), repeat)
        within = np.arange(len(pair)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        kept_row = holders[first[cols[pair]] + within]
        values = (weights * idf[cols])[pair]
        out = np.bincount(kept_row * len(candidates) + rows[pair], weights=values,
                          minlength=len(kept) * len(candidates)).reshape(len(kept), len(candidates)).astype(np.float64)
    # each kept paper against itself: all of its query terms match
    itself = np.array([sum(idf[vocab[t]] * saturated(query[t], sum(query.values())) for t in terms)
                       for query, terms in zip(kept, queries, strict=True)])
    return np.asarray(out / np.where(itself > 0, itself, 1.0)[:, None]), whole


def features(candidates: Sequence[Bag], kept: Sequence[Bag],
             weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(best, recent, whole)`` per candidate (see the module's docstring); zeros without kept
    papers."""
    if not kept:
        return np.zeros(len(candidates)), np.zeros(len(candidates)), np.zeros(len(candidates))
    matrix, whole = _scores(candidates, kept, k1=K1, b=B)
    return matrix.max(axis=0), np.asarray(weights @ matrix), whole


