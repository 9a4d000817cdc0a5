"""The search service: ``search_papers`` and ``similar_papers``, shared by the web app, the CLI and feeds.

Hybrid search: BM25 and nearest neighbours by meaning, fused by reciprocal rank (``fusion``);
papers named by arXiv id or by their exact title are pinned first; filters and sorts apply to the
fused candidates. An empty query lists papers by the chosen sort, filters applied.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from dailypapers.search.analysis import Highlighter, window
from dailypapers.search.engine import SearchEngine
from dailypapers.search.neighbours import Neighbours
from dailypapers.search.query import ParsedQuery, parse_query
from dailypapers.search.ranking import (
    QUERY_DEPTH,
    SENTENCE_DEPTH,
    Ranked,
    query_features,
    rank_query,
    rank_similar,
    rerank_query,
    rerank_similar,
)
from dailypapers.search.sentence_vectors import sentence_vectors_of
from dailypapers.services import trending
from dailypapers.services.explain import Reason, explain_query
from dailypapers.services.papers import PaperCard, load_cards
from dailypapers.store import DailyEntry, Organization, Paper
from dailypapers.store.base import utcnow

Sort = Literal["relevance", "trending", "newest", "upvotes"]
Mode = Literal["hybrid", "keyword", "semantic"]
SORTS: tuple[Sort, ...] = ("relevance", "trending", "newest", "upvotes")
MODES: tuple[Mode, ...] = ("hybrid", "keyword", "semantic")
MAX_PER_PAGE = 100
#: Sorting by something other than relevance reorders this many of the most relevant papers.
RESORT_DEPTH = 100
#: An empty query sorted by trending ranks the papers featured in this many days before the clock.
BROWSE_TRENDING_DAYS = 30
#: The notice of a query that nothing matches: no paper has its words, none is close in meaning.
NOTHING_MATCHES = "No paper has these words, and none is close enough in meaning."


class SearchError(ValueError):
    """A search request that cannot be answered as asked (the message says why)."""


@dataclass(frozen=True)
class SearchFilters:
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    featured_from: dt.date | None = None
    featured_to: dt.date | None = None
    organization: str | None = None  # handle, e.g. "SakanaAI"
    has_code: bool | None = None
    min_upvotes: int | None = None
    # Papers that arrived in [arrived_from, arrived_to]: featured on a day in it, or, never
    # featured (catalog papers from `sync arxiv` or the snapshot), first published in it.
    arrived_from: dt.date | None = None
    arrived_to: dt.date | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in vars(self).values())

    @property
    def matches_nothing(self) -> bool:
        """A date range that ends before it starts: the API answers it with no papers."""
        return any(low is not None and high is not None and low > high
                   for low, high in ((self.published_from, self.published_to),
                                     (self.featured_from, self.featured_to)))

    def apply(self, stmt: Select) -> Select:  # type: ignore[type-arg]
        """Add these filters to a statement over ``Paper`` left-joined to ``DailyEntry``/``Organization``."""
        day = dt.timedelta(days=1)
        if self.published_from:
            stmt = stmt.where(Paper.published_at >= dt.datetime.combine(self.published_from, dt.time()))
        if self.published_to:
            stmt = stmt.where(Paper.published_at < dt.datetime.combine(self.published_to + day, dt.time()))
        if self.featured_from:
            stmt = stmt.where(DailyEntry.day >= self.featured_from)
        if self.featured_to:
            stmt = stmt.where(DailyEntry.day <= self.featured_to)
        if self.organization:
            stmt = stmt.where(func.lower(Organization.handle) == self.organization.lower())
        if self.has_code is True:
            stmt = stmt.where(and_(Paper.github_repo.is_not(None), Paper.github_repo != ""))
        elif self.has_code is False:
            stmt = stmt.where(or_(Paper.github_repo.is_(None), Paper.github_repo == ""))
        if self.min_upvotes is not None:
            stmt = stmt.where(Paper.upvotes >= self.min_upvotes)
        if self.arrived_from and self.arrived_to:
            featured = and_(DailyEntry.day >= self.arrived_from, DailyEntry.day <= self.arrived_to)
            published = and_(DailyEntry.paper_id.is_(None),
                             Paper.published_at >= dt.datetime.combine(self.arrived_from, dt.time()),
                             Paper.published_at < dt.datetime.combine(self.arrived_to + day, dt.time()))
            stmt = stmt.where(or_(featured, published))
        return stmt


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: Sort = "relevance"
    mode: Mode = "hybrid"
    page: int = 1
    per_page: int = 20

    def validate(self) -> None:
        if self.sort not in SORTS:
            raise SearchError(f"sort must be one of {', '.join(SORTS)}")
        if self.mode not in MODES:
            raise SearchError(f"mode must be one of {', '.join(MODES)}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise SearchError(f"per_page must be from 1 to {MAX_PER_PAGE}")
        if not 1 <= self.page <= 1000:
            raise SearchError("page must be from 1 to 1000")
        f = self.filters
        for low, high, what in ((f.published_from, f.published_to, "published"),
                                (f.featured_from, f.featured_to, "featured")):
            if low and high and low > high:
                raise SearchError(f"the {what} date range ends before it starts")


@dataclass(frozen=True)
class SearchHit:
    card: PaperCard
    score: float
    pinned: bool
    highlighted_title: str  # HTML: escaped, matches in <mark>
    highlighted_summary: str  # HTML: the whole abstract, escaped, matches in <mark>
    snippet: str  # HTML: ~320 characters of the abstract around the first match
    reasons: tuple[Reason, ...] = ()  # its sentence closest in meaning to the query (issue 15)


@dataclass(frozen=True)
class SearchPage:
    request: SearchRequest
    hits: list[SearchHit]
    total: int
    notice: str | None = None

    @property
    def has_next(self) -> bool:
        return self.request.page * self.request.per_page < self.total


def _rows(db: Session, ids: Sequence[int], filters: SearchFilters) -> dict[int, tuple]:  # type: ignore[type-arg]
    """Light rows (upvotes, published_at, featured_at) of the ids that pass the filters."""
    cols = (Paper.id, Paper.upvotes, Paper.published_at, DailyEntry.day, DailyEntry.submitted_at)
    out: dict[int, tuple] = {}  # type: ignore[type-arg]
    for start in range(0, len(ids), 500):
        stmt = (select(*cols).select_from(Paper)
                .outerjoin(DailyEntry, DailyEntry.paper_id == Paper.id)
                .outerjoin(Organization, Organization.id == DailyEntry.organization_id)
                .where(Paper.id.in_(ids[start:start + 500])))
        for pid, up, published, day, submitted in db.execute(filters.apply(stmt)):
            featured = submitted or (dt.datetime.combine(day, dt.time()) if day else None)
            out[pid] = (up, published, featured)
    return out


@dataclass(frozen=True)
class _Light:
    id: int
    upvotes: int
    featured_at: dt.datetime | None
    published_at: dt.datetime | None


def _sorted(db: Session, ids: list[int], rows: dict[int, tuple], sort: Sort) -> list[int]:  # type: ignore[type-arg]
    items = [_Light(pid, rows[pid][0], rows[pid][2], rows[pid][1]) for pid in ids]
    if sort == "upvotes":
        items.sort(key=lambda it: -it.upvotes)
    elif sort == "newest":
        oldest = dt.datetime.min
        items.sort(key=lambda it: it.published_at or it.featured_at or oldest, reverse=True)
    elif sort == "trending":
        as_of = trending.trending_clock(latest_day=db.scalar(select(func.max(DailyEntry.day))),
                                        now=utcnow())
        items = [it for it, _ in trending.rank(items, as_of=as_of)]
    return [it.id for it in items]


def _pins(db: Session, parsed: ParsedQuery) -> list[int]:
    pins: list[int] = []
    if parsed.arxiv_ids:
        found = dict(db.execute(select(Paper.arxiv_id, Paper.id)
                                .where(Paper.arxiv_id.in_(parsed.arxiv_ids))).all())
        pins += [found[a] for a in parsed.arxiv_ids if a in found]
    if not parsed.is_id_lookup and len(parsed.title_key) >= 8:
        pins += [pid for pid in db.scalars(select(Paper.id).where(Paper.title_key == parsed.title_key)
                                           .order_by(Paper.id).limit(5)) if pid not in pins]
    return pins


def _browse(db: Session, request: SearchRequest) -> tuple[list[int], int]:
    """An empty query: the requested page of every paper that passes the filters, and their count."""
    stmt = (select(Paper.id).select_from(Paper)
            .outerjoin(DailyEntry, DailyEntry.paper_id == Paper.id)
            .outerjoin(Organization, Organization.id == DailyEntry.organization_id))
    stmt = request.filters.apply(stmt)
    start = (request.page - 1) * request.per_page
    if request.sort == "trending":
        as_of = trending.trending_clock(latest_day=db.scalar(select(func.max(DailyEntry.day))),
                                        now=utcnow())
        if request.filters.featured_from is None and request.filters.featured_to is None:
            stmt = stmt.where(DailyEntry.day >= (as_of - dt.timedelta(days=BROWSE_TRENDING_DAYS)).date())
        ids = list(db.scalars(stmt.where(DailyEntry.id.is_not(None))))
        ranked = _sorted(db, ids, _rows(db, ids, SearchFilters()), "trending")
        return ranked[start:start + request.per_page], len(ranked)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if request.sort == "upvotes":
        stmt = stmt.order_by(Paper.upvotes.desc(), Paper.id.desc())
    else:  # newest, and relevance (nothing to be relevant to)
        stmt = stmt.order_by(func.coalesce(Paper.published_at, DailyEntry.day).desc().nulls_last(), Paper.id.desc())
    return list(db.scalars(stmt.offset(start).limit(request.per_page))), total


def search_papers(*, db: Session, engine: SearchEngine, request: SearchRequest) -> SearchPage:
    """One page of results for ``request``; raises ``SearchError`` for an invalid request."""
    request.validate()
    parsed = parse_query(request.q)
    notice = None
    scores: dict[int, float] = {}
    query_vector: np.ndarray | None = None
    pins: list[int] = []
    start = (request.page - 1) * request.per_page
    if parsed.is_empty and not parsed.raw.strip():  # text without words (emoji, "!!!") is searched by meaning
        page_ids, total = _browse(db, request)
    else:
        wants_vector = request.mode != "keyword" and not parsed.is_id_lookup
        # The query's embedding starts first when the engine already knows it has vectors (every
        # query but a process's first): catching up and the pins (three lookups) run meanwhile.
        early = engine.embed_query_async(parsed.text) if wants_vector and engine.has_vectors else None
        dense = engine.prepare(db)
        pins = _pins(db, parsed)
        if parsed.is_id_lookup:
            ranked_ids = pins
            if not pins:
                notice = f"No paper with arXiv id {parsed.arxiv_ids[0]} here yet."
        else:
            depth = engine.settings.search_candidates * (5 if request.filters.active else 1)
            vector = early or (engine.embed_query_async(parsed.text) if wants_vector else None)
            ranked = rank_query(engine, parsed, vector=vector, dense=dense, limit=depth,
                                keyword=request.mode != "semantic", floor=engine.settings.search_semantic_floor)
            query_vector = vector.result() if isinstance(vector, Future) else vector
            # Only a relevance order shows the head's order (another sort re-sorts the top 100).
            if (request.mode == "hybrid" and request.sort == "relevance" and query_vector is not None
                    and engine.settings.search_sentences):
                ranked = _rerank(db, engine, ranked, query_vector, dense)
            ranked_ids, scores = pins + [p for p in ranked.ids if p not in pins], ranked.scores
            if request.mode == "semantic" and not ranked.semantic and not (
                    engine.semantic and engine.has_vectors and not engine.model_warming):
                notice = ("Search by meaning is off here." if not engine.semantic else
                          "Search by meaning is still starting up; try again in a moment."
                          if engine.model_warming else
                          "No paper has an embedding yet (`dailypapers embed` computes them).")
            elif not ranked_ids:
                notice = NOTHING_MATCHES
        rows = _rows(db, ranked_ids, request.filters)
        ids = [pid for pid in ranked_ids if pid in rows]
        if request.sort != "relevance":
            head = [pid for pid in ids if pid not in pins][:RESORT_DEPTH]
            ids = [p for p in pins if p in rows] + _sorted(db, head, rows, request.sort)
        page_ids, total = ids[start:start + request.per_page], len(ids)
    terms = engine.keyword.query_terms(parsed) if not parsed.is_empty else set()
    marks = Highlighter(engine.keyword.analyzers, terms) if terms else None
    reasons = explain_query(db=db, engine=engine, vector=query_vector, paper_ids=page_ids)
    hits = []
    for card in load_cards(db=db, paper_ids=page_ids):
        if marks is not None:
            spans = marks.spans(card.abstract)
            title, summary = marks.highlight(card.title), marks.highlight(card.abstract, spans)
            snippet = marks.highlight(window(card.abstract, marks.first_match(card.abstract, spans)))
        else:
            title, summary = html.escape(card.title), html.escape(card.abstract)
            snippet = html.escape(window(card.abstract, None))
        hits.append(SearchHit(card=card, score=scores.get(card.id, 0.0), pinned=card.id in pins,
                              highlighted_title=title, highlighted_summary=summary, snippet=snippet,
                              reasons=tuple(reasons.get(card.id, ()))))
    return SearchPage(request=request, hits=hits, total=total, notice=notice)


def _rerank(db: Session, engine: SearchEngine, ranked: Ranked, vector: np.ndarray, dense: Neighbours) -> Ranked:
    """The hybrid head re-ordered with the query's best-matching sentence and whole-abstract cosine
    (``ranking.rerank_query``; issue 15: held-out HF queries, MRR@10 dev 0.746 → 0.752, test
    0.572 → 0.612, docs/search.md). Papers without sentence vectors yet count as average."""
    sentences = sentence_vectors_of(db=db, model=engine.model, paper_ids=ranked.ids[:QUERY_DEPTH])
    return rerank_query(ranked, query_features(ranked, vector=vector, dense=dense, sentences=sentences))


def similar_papers(*, db: Session, engine: SearchEngine, paper_id: int, limit: int = 8) -> list[PaperCard]:
    """Papers like ``paper_id``: neighbours by meaning fused with keyword more-like-this.

    A paper without a vector yet (``dailypapers embed`` has not reached it) gets keyword
    more-like-this only: a page view never waits for the model.
    """
    paper = db.get(Paper, paper_id)
    if paper is None:
        return []
    return load_cards(db=db, paper_ids=similar_ids(db=db, engine=engine, paper_id=paper_id, title=paper.title,
                                                   abstract=paper.abstract, limit=limit))


def similar_ids(*, db: Session, engine: SearchEngine, paper_id: int, title: str, abstract: str,
                limit: int) -> list[int]:
    """``similar_papers``' ids, best first, for a paper whose text the caller already holds (the
    paper page has its card: no second load of the paper)."""
    dense = engine.prepare(db)
    vector = dense.vectors_of([paper_id]).get(paper_id) if engine.semantic else None
    # Sentence vectors come from `dailypapers embed`; until the paper has them, the fused order.
    mine = (sentence_vectors_of(db=db, model=engine.model, paper_ids=[paper_id])
            if vector is not None and engine.settings.search_sentences else {})
    ranked = rank_similar(engine, title=title, abstract=abstract, vector=vector, dense=dense,
                          limit=max(limit, SENTENCE_DEPTH) if mine else limit, exclude=paper_id)
    ids = ranked.ids
    if mine and vector is not None:
        sentences = mine | sentence_vectors_of(db=db, model=engine.model, paper_ids=ids)
        ids = rerank_similar(ranked, vector=vector, dense=dense, sentences=sentences, query=paper_id)
    return list(ids[:limit])
