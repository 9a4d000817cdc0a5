"""Search surfaces: the /search page, ``/api/papers/search`` (hf.co dialect, hybrid),
``/api/papers/{id}/similar``, the feed of a search, and "Similar papers" on paper pages.

``install(app)`` must run before the API and paper routers are included: their
``/api/papers/{paper_id:path}`` and ``/papers/{paper_id:path}`` would otherwise take these paths.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session

from dailypapers.search.coverage import Coverage, coverage
from dailypapers.search.engine import SearchEngine
from dailypapers.search.query import MAX_QUERY_CHARS
from dailypapers.services.search import (
    MAX_PER_PAGE,
    Mode,
    SearchError,
    SearchFilters,
    SearchPage,
    SearchRequest,
    Sort,
    search_papers,
    similar_papers,
)
from dailypapers.services import orgs, papers
from dailypapers.services.explain import explain_similar
from dailypapers.services.errors import ServiceError
from dailypapers.services.follows import FollowBox, canonical_query, follow_box
from dailypapers.web import schemas
from dailypapers.web.auth import Viewed, Viewer
from dailypapers.web.deps import get_db
from dailypapers.web.openapi import COMMON, ITEM_LINKS, PaperRef, link, responses
from dailypapers.web.rendering import JSON, Alternate, body, render
from dailypapers.web.routes.exports import Format as ExportFormat
from dailypapers.web.routes.exports import export_response
from dailypapers.web.routes.feeds import feed_response

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]
FEED_ITEMS = 50

# Longer text is cut by the search anyway; the bound keeps every URL within what uvicorn reads.
Q = Annotated[str, Query(max_length=MAX_QUERY_CHARS,
                         description="Any text: words, \"a phrase\", -excluded, an arXiv id or URL.")]
SortQ = Annotated[Sort, Query(description="relevance, trending, newest or upvotes.")]
ModeQ = Annotated[Mode, Query(description="hybrid (keywords + meaning), keyword or semantic.")]
DateQ = Annotated[schemas.IsoDate | None, Query(description="YYYY-MM-DD")]
OrgQ = Annotated[str | None, Query(max_length=100, description="Organization handle, e.g. SakanaAI.")]
CodeQ = Annotated[bool | None, Query(description="true: only papers with code; false: only without.")]
UpvotesQ = Annotated[int | None, Query(ge=0, le=1_000_000, description="At least this many upvotes.")]


class MatchedSentence(BaseModel):
    """One reason a paper is similar: its sentence and the sentence of the asked-for paper it matches."""

    sentence: str = Field(description="A sentence of the similar paper's abstract.")
    querySentence: str | None = Field(None, description="The sentence of the asked-for paper it matches.")
    similarity: float = Field(description="Cosine similarity of the two sentences.")


class HfSearchItem(schemas.HfDailyItem):
    """A daily-papers item plus the matched words: escaped HTML with matches in ``<mark>``."""

    highlightedTitle: str = Field(description="The title, HTML-escaped, matched words in <mark>.")
    highlightedSummary: str = Field(description="The abstract, HTML-escaped, matched words in <mark>.")
    matchedSentences: list[MatchedSentence] | None = Field(
        None, description="With explain=true: the paper's sentence closest in meaning to the query, "
        "when it is at least DAILYPAPERS_SEARCH_SEMANTIC_FLOOR.")


_SEARCH_ITEMS: TypeAdapter[list[HfSearchItem]] = TypeAdapter(list[HfSearchItem])


def _filters(published_from: dt.date | None, published_to: dt.date | None, featured_from: dt.date | None,
             featured_to: dt.date | None, org: str | None, has_code: bool | None,
             min_upvotes: int | None) -> SearchFilters:
    return SearchFilters(published_from=published_from, published_to=published_to,
                         featured_from=featured_from, featured_to=featured_to,
                         organization=org or None, has_code=has_code, min_upvotes=min_upvotes)


def search_filters(published_from: DateQ = None, published_to: DateQ = None,
                   featured_from: DateQ = None, featured_to: DateQ = None, org: OrgQ = None,
                   has_code: CodeQ = None, min_upvotes: UpvotesQ = None) -> SearchFilters:
    """The filters of the search page, its feed and its exports, read from one set of parameters."""
    return _filters(published_from, published_to, featured_from, featured_to, org, has_code, min_upvotes)


Filters = Annotated[SearchFilters, Depends(search_filters)]


def _search(request: Request, db: Session, search: SearchRequest) -> SearchPage:
    try:
        return search_papers(db=db, engine=request.app.state.search, request=search)
    except SearchError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/papers/search", response_model=list[HfSearchItem], tags=["papers"],
            responses=responses(*COMMON, extra={200: {
                "headers": {"X-Total-Count": {"description": "Results over all pages.",
                                              "schema": {"type": "integer", "minimum": 0}}},
                "links": {"paper": link("getPaper", "The best match.", paper_id="$response.body#/0/paper/id")},
            }}),
            operation_id="searchPapers", summary="Search papers (hf.co's /api/papers/search)")
def api_search(
    request: Request, db: DB, q: Q = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Results per page.")] = 20,
    p: Annotated[int, Query(ge=0, le=999, description="Page number, from 0.")] = 0,
    sort: SortQ = "relevance", mode: ModeQ = "hybrid",
    published_from: DateQ = None, published_to: DateQ = None,
    featured_from: DateQ = None, featured_to: DateQ = None,
    org: OrgQ = None, has_code: CodeQ = None, min_upvotes: UpvotesQ = None,
    explain: Annotated[bool, Query(description="Add matchedSentences: the sentence that matched.")] = False,
) -> Response:
    """Hybrid search: BM25 and meaning fused by reciprocal rank; an arXiv id or exact title comes first."""
    filters = _filters(published_from, published_to, featured_from, featured_to, org, has_code, min_upvotes)
    if filters.matches_nothing:
        return body(request, b"[]", JSON, headers={"x-total-count": "0"})
    page = _search(request, db, SearchRequest(q=q, filters=filters, sort=sort, mode=mode, page=p + 1,
                                              per_page=limit))
    items = [HfSearchItem(**schemas.hf_daily_item(hit.card).model_dump(by_alias=True),
                          highlightedTitle=hit.highlighted_title, highlightedSummary=hit.highlighted_summary,
                          matchedSentences=[MatchedSentence(sentence=r.sentence, similarity=r.similarity)
                                            for r in hit.reasons] if explain else None)
             for hit in page.hits]
    headers = {"x-total-count": str(page.total)}
    return body(request, _SEARCH_ITEMS.dump_json(items, exclude_none=True, by_alias=True), JSON,
                headers=headers)


class HfSimilarItem(schemas.HfDailyItem):
    """A daily-papers item; with ``explain=true``, the sentences that matched (when both papers
    have sentence vectors from ``dailypapers embed``)."""

    matchedSentences: list[MatchedSentence] | None = None


_SIMILAR_ITEMS: TypeAdapter[list[HfSimilarItem]] = TypeAdapter(list[HfSimilarItem])


@router.get("/api/papers/{paper_id:path}/similar", response_model=list[HfSimilarItem],
            tags=["papers"], responses=responses(*COMMON, 404, extra={200: ITEM_LINKS}),
            operation_id="similarPapers", summary="Papers similar to one paper")
def api_similar(request: Request, paper_id: PaperRef, db: DB,
                limit: Annotated[int, Query(ge=1, le=50, description="How many papers.")] = 10,
                explain: Annotated[bool, Query(description="Add matchedSentences: which sentences matched.")]
                = False) -> Response:
    """Neighbours by meaning fused with keyword more-like-this, re-ranked by sentence alignment,
    most similar first."""
    card = papers.get_card(db=db, paper_id=paper_id)
    if card is None:
        raise HTTPException(404, f"paper {paper_id[:80]!r} not found")
    engine = request.app.state.search
    similar = similar_papers(db=db, engine=engine, paper_id=card.id, limit=limit)
    if not explain:
        return body(request, schemas.daily_items_json(similar), JSON,
                    alternates=[Alternate(f"/papers/{card.key}", "text/html", card.title)])

    reasons = explain_similar(db=db, engine=engine, paper_id=card.id, other_ids=[c.id for c in similar])
    items = [HfSimilarItem(**schemas.hf_daily_item(other).model_dump(by_alias=True), matchedSentences=[
        MatchedSentence(sentence=r.sentence, querySentence=r.query_sentence, similarity=r.similarity)
        for r in reasons.get(other.id, [])]) for other in similar]
    return body(request, _SIMILAR_ITEMS.dump_json(items, exclude_none=True, by_alias=True), JSON,
                alternates=[Alternate(f"/papers/{card.key}", "text/html", card.title)])


def _query_string(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "", False)})


COVERAGE_SECONDS = 60.0


def _coverage(request: Request, db: Session) -> Coverage:
    """How much of the catalog search by meaning sees, counted at most once a minute per worker."""
    state = request.app.state
    cached: tuple[float, Coverage] | None = getattr(state, "search_coverage", None)
    now = time.monotonic()
    if cached is None or now - cached[0] > COVERAGE_SECONDS:
        cached = (now, coverage(db=db, model=state.search.model))
        state.search_coverage = cached
    return cached[1]


def _filter_words(params: dict[str, Any]) -> list[str]:
    """The active filters in words, for "No papers match … with these filters"."""
    words = []
    for key, label in (("published_from", "published from"), ("published_to", "published until"),
                       ("featured_from", "featured from"), ("featured_to", "featured until")):
        if params.get(key):
            words.append(f"{label} {params[key]}")
    if params.get("org"):
        words.append(f"organization {params['org']}")
    if params.get("has_code") is not None:
        words.append("with code" if params["has_code"] else "without code")
    if params.get("min_upvotes") is not None:
        words.append(f"at least {params['min_upvotes']} upvotes")
    if params.get("mode") == "keyword":
        words.append("keywords only")
    elif params.get("mode") == "semantic":
        words.append("meaning only")
    return words


def _follow_box(db: Session, viewer: Viewer, feed_query: str, q: str) -> FollowBox | None:
    """The search's follow button; none for a search with neither words nor filters."""
    try:
        target = canonical_query(dict(parse_qsl(feed_query)))
    except ServiceError:
        return None
    return follow_box(db=db, user_id=viewer.user.id if viewer.user else None, kind="search",
                      target=target, label=f"the search {q[:80]!r}" if q else "this search")


@router.get("/search", include_in_schema=False)
def search_page(
    request: Request, viewer: Viewed, db: DB, filters: Filters, q: Q = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    sort: SortQ = "relevance", mode: ModeQ = "hybrid",
) -> Response:
    result = _search(request, db, SearchRequest(q=q, filters=filters, sort=sort, mode=mode, page=page))
    viewer.preload_votes(db=db, paper_ids=[hit.card.id for hit in result.hits])
    params = {"q": q, "sort": sort if sort != "relevance" else None,
              "mode": mode if mode != "hybrid" else None, "published_from": filters.published_from,
              "published_to": filters.published_to, "featured_from": filters.featured_from,
              "featured_to": filters.featured_to, "org": filters.organization,
              "has_code": filters.has_code, "min_upvotes": filters.min_upvotes}
    feed_query = _query_string(**{**params, "sort": None})
    export_query = _query_string(**params)
    pages = max(1, math.ceil(result.total / result.request.per_page))
    explained = {"coverage": _coverage(request, db), "org_choices": orgs.org_choices(db=db),
                 "filter_words": _filter_words(params),
                 "clear_url": "/search?" + _query_string(q=q, sort=params["sort"])}
    context = {"q": q, "result": result, "filters": filters, "sort": sort, "mode": mode,
               "params": params, "pages": min(pages, 1000), "page": page,
               "page_url": lambda n: "/search?" + _query_string(**params, page=n if n > 1 else None),
               "sort_url": lambda s: "/search?" + _query_string(**{**params, "sort": s if s != "relevance" else None}),
               "feed_query": feed_query, "export_query": export_query, **explained}
    context["follow"] = _follow_box(db, viewer, feed_query, q)
    title = f"Search: {q[:80]}" if q else "Search"
    suffix = f"?{feed_query}" if feed_query else ""
    alternates = [Alternate(f"/feeds/search.rss{suffix}", "application/rss+xml", f"{title} (RSS)"),
                  Alternate(f"/feeds/search.atom{suffix}", "application/atom+xml", f"{title} (Atom)")]
    return render(request, "search.html", context, alternates=alternates, db=db)


@router.get("/feeds/search.{fmt}", include_in_schema=False)
def search_feed(
    request: Request, fmt: str, db: DB, filters: Filters, q: Q = "",
) -> Response:
    """The newest of the papers most relevant to a search, as RSS or Atom."""
    if fmt not in ("rss", "atom"):
        raise HTTPException(404, "feeds end in .rss or .atom")
    result = _search(request, db, SearchRequest(q=q, filters=filters, sort="newest", per_page=FEED_ITEMS))
    site = request.app.state.settings.site_name
    query = request.url.query
    # The query goes in as text (typographic quotes, not repr()): feedgen escapes it for XML once;
    # repr() had added a second, Python, escaping (it's -> it\'s) that readers showed as typed.
    return feed_response(request, title=f"{site}: search “{q[:80]}”" if q else f"{site}: search",
                         description=f"Newest papers among the most relevant to “{q[:200]}”." if q
                         else "Newest papers.", page_path=f"/search?{query}" if query else "/search",
                         cards=[hit.card for hit in result.hits], fmt=fmt)  # type: ignore[arg-type]


@router.get("/exports/search.{fmt}", include_in_schema=False)
def search_export(request: Request, fmt: ExportFormat, db: DB, filters: Filters, q: Q = "",
                  sort: SortQ = "relevance", mode: ModeQ = "hybrid") -> Response:
    """The first page of a search at its largest (``MAX_PER_PAGE``), in the page's order."""
    result = _search(request, db, SearchRequest(q=q, filters=filters, sort=sort, mode=mode,
                                                per_page=MAX_PER_PAGE))
    return export_response(request, cards=[hit.card for hit in result.hits], fmt=fmt,
                           name=f"search-{q[:60]}" if q else "search")


def install(app: FastAPI) -> None:
    """Give the app its search engine, index hooks and routes."""
    engine = SearchEngine(app.state.settings)
    app.state.search = engine
    engine.install_hooks(app.state.db)

    app.include_router(router)
