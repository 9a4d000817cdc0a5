"""Ranking over the indexes, without the database: a text query, and "more like this paper".

Both fuse a keyword list and a meaning list with reciprocal rank fusion. ``pool`` restricts a
ranking to given paper ids and ranks every one of them (the CSFCube benchmark ranks each query's
judged pool this way, with exactly the code that serves the product).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from dailypapers.search.alignment import (QUERY_WEIGHTS, SIMILAR_WEIGHTS, fuse_query, fuse_similar,
                                          title_and_sentences, transport_many)
from dailypapers.search.engine import SearchEngine
from dailypapers.search.fusion import reciprocal_rank_fusion
from dailypapers.search.neighbours import Neighbours
from dailypapers.search.query import ParsedQuery

A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True)
class Ranked:
    """A fused ranking, with the two lists it came from (for explanations and tests)."""

    ids: list[int]
    scores: dict[int, float]
    keyword: list[int]
    semantic: list[int]


def _fuse(engine: SearchEngine, keyword: Sequence[int], semantic: Sequence[int]) -> Ranked:
    s = engine.settings
    fused = reciprocal_rank_fusion([keyword, semantic], k=s.search_rrf_k,
                                   weights=[s.search_keyword_weight, s.search_semantic_weight])
    return Ranked(ids=[pid for pid, _ in fused], scores=dict(fused), keyword=list(keyword),
                  semantic=list(semantic))


def _dense(dense: Neighbours, vector: np.ndarray | None, limit: int,
           pool: Collection[int] | None, floor: float | None = None) -> list[int]:
    """The nearest papers, best first; with ``floor``, only those at least that similar (a pool
    is ranked whole: the benchmark ranks every judged paper)."""
    if vector is None:
        return []
    if pool is None:
        return [pid for pid, score in dense.search(vector, limit=limit) if floor is None or score >= floor]
    found = dense.vectors_of(pool)
    if not found:
        return []
    ids = list(found)
    scores = np.stack([found[pid] for pid in ids]) @ vector
    order = np.argsort(-scores, kind="stable")
    return [ids[i] for i in order]


def _in_pool(pairs: Sequence[tuple[int, float]], pool: Collection[int] | None) -> list[int]:
    return [pid for pid, _ in pairs if pool is None or pid in pool]


def _then(future: Future[A], step: Callable[[A], B]) -> Future[B]:
    """``step(future.result())``, run by the thread that completes ``future`` as soon as it does
    (or now, by the caller, if it is done): no worker thread is held waiting for it."""
    out: Future[B] = Future()

    def run(done: Future[A]) -> None:
        try:
            out.set_result(step(done.result()))
        except BaseException as exc:  # handed to whoever reads the result, as a worker would
            out.set_exception(exc)

    future.add_done_callback(run)
    return out


def rank_query(engine: SearchEngine, parsed: ParsedQuery, *,
               vector: np.ndarray | Future[np.ndarray | None] | None, dense: Neighbours, limit: int,
               keyword: bool = True, pool: Collection[int] | None = None,
               floor: float | None = None) -> Ranked:
    """Papers for a text query: BM25 over the parsed words fused with the nearest neighbours of
    ``vector`` found by ``dense`` (what ``engine.prepare`` returned). Neighbours less similar
    than ``floor`` (cosine) are no match: the 200 nearest papers of any text are not results.

    ``vector`` may be a future (``engine.embed_query_async``): the keyword search runs meanwhile,
    and so does the nearest-neighbour search when ``dense`` may run on the embedding's thread (at
    1M papers: BM25 ~4.5 ms on one core, embedding ~2.6 ms + neighbours ~2 ms on the other).
    """
    near: Future[list[int]] | None = None
    if isinstance(vector, Future) and pool is None and dense.thread_safe:
        near = _then(vector, lambda v: _dense(dense, v, limit, None, floor))
    depth = engine.keyword.num_docs if pool is not None else limit
    kw = _in_pool(engine.keyword.search(parsed, limit=depth), pool) if keyword else []
    if near is not None:
        return _fuse(engine, kw, near.result())
    if isinstance(vector, Future):
        vector = vector.result()
    return _fuse(engine, kw, _dense(dense, vector, limit, pool, floor))


def rank_similar(engine: SearchEngine, *, title: str, abstract: str, vector: np.ndarray | None,
                 dense: Neighbours, limit: int, exclude: int | None = None, pool: Collection[int] | None = None,
                 max_terms: int = 40) -> Ranked:
    """Papers like one paper: keyword more-like-this fused with its nearest neighbours by meaning."""
    depth = engine.keyword.num_docs if pool is not None else limit + 1
    kw = [pid for pid in _in_pool(engine.keyword.more_like_this(
        title=title, abstract=abstract, limit=depth, max_terms=max_terms), pool) if pid != exclude]
    near = [pid for pid in _dense(dense, vector, limit + 1, pool) if pid != exclude]
    ranked = _fuse(engine, kw, near)
    if pool is None:
        return Ranked(ranked.ids[:limit], ranked.scores, ranked.keyword, ranked.semantic)
    return ranked


#: Similar papers re-ranked by sentence alignment: this many fused candidates are read.
SENTENCE_DEPTH = 60


def rerank_similar(ranked: Ranked, *, vector: np.ndarray, dense: Neighbours, sentences: dict[int, np.ndarray],
                   query: int, weights: tuple[float, float, float, float] = SIMILAR_WEIGHTS) -> list[int]:
    """``ranked``'s candidates re-ranked with sentence-level matching (``alignment.fuse_similar``):
    the query paper's sentences aligned with each candidate's, fused with the whole-abstract
    cosine, the keyword rank and the two titles' cosine. ``sentences`` holds the stored rows
    (title, then sentences) of the query and the candidates that have them; the others count as
    average on those scores."""
    if query not in sentences:
        return ranked.ids
    my_title, mine = title_and_sentences(sentences[query])
    cosine = {pid: float(v @ vector) for pid, v in dense.vectors_of(ranked.ids).items()}
    parts = {pid: title_and_sentences(sentences[pid]) for pid in ranked.ids if pid in sentences}
    aligned = dict(zip(parts, transport_many(mine, [theirs for _, theirs in parts.values()]), strict=True))
    titles = ({pid: float(their_title @ my_title) for pid, (their_title, _) in parts.items()
               if their_title is not None} if my_title is not None else {})
    return fuse_similar(ranked.ids, cosine=cosine, aligned=aligned, keyword=ranked.keyword, title=titles,
                        weights=weights)


#: Text queries re-ranked by sentence matching: this many hybrid candidates are read (10 chosen on
#: the dev split of bench/data/hf_queries_heldout.jsonl over 10 / 20 / 30, docs/search.md).
QUERY_DEPTH = 10


@dataclass(frozen=True)
class QueryFeatures:
    """What the text-query re-ranking reads of the head of a hybrid ranking."""

    head: list[int]
    sentence: dict[int, float]  # the query's cosine with each candidate's closest sentence
    cosine: dict[int, float]  # the query's cosine with each candidate's whole-abstract vector
    title: dict[int, float]  # the query's cosine with each candidate's title vector (a titled row)


def query_features(ranked: Ranked, *, vector: np.ndarray, dense: Neighbours,
                   sentences: dict[int, np.ndarray], depth: int = QUERY_DEPTH) -> QueryFeatures:
    head = ranked.ids[:depth]
    # A stored row is the title's vector, then the sentences': the title is a score of its own.
    parts = {pid: title_and_sentences(sentences[pid]) for pid in head if pid in sentences}
    best = {pid: float((rows @ vector).max()) for pid, (_, rows) in parts.items() if len(rows)}
    titles = {pid: float(title @ vector) for pid, (title, _) in parts.items() if title is not None}
    cosine = {pid: float(v @ vector) for pid, v in dense.vectors_of(head).items()}
    return QueryFeatures(head=head, sentence=best, cosine=cosine, title=titles)


def rerank_query(ranked: Ranked, features: QueryFeatures,
                 weights: tuple[float, float, float, float] = QUERY_WEIGHTS) -> Ranked:
    """``ranked`` with its head re-ordered by ``alignment.fuse_query`` (the rest unchanged).

    Scores stay comparable down the whole list: the head's RRF scores, sorted, are handed out
    again in the new order (a hit's score is the RRF score of the place it now holds), so scores
    never increase down the list and the tail's are untouched. Without any sentence vector in the
    head the ranking is returned as it is.
    """
    head = features.head
    if not features.sentence or len(head) < 2:
        return ranked
    order = [pid for pid, _ in fuse_query(head, sentence=features.sentence, cosine=features.cosine,
                                          title=features.title, weights=weights)]
    places = sorted((ranked.scores[pid] for pid in head), reverse=True)
    scores = dict(ranked.scores) | dict(zip(order, places, strict=True))
    return Ranked(ids=order + ranked.ids[len(head):], scores=scores, keyword=ranked.keyword,
                  semantic=ranked.semantic)
