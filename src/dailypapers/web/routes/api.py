"""The JSON API in Hugging Face's daily-papers dialect: ``huggingface_hub.HfApi(endpoint=...)``
works against it unchanged (``list_daily_papers``, ``paper_info``, ``read_paper``).

``/api/papers/search`` belongs to the search routes, which must be included before this router
(``/api/papers/{paper_id}`` would otherwise take "search" for an id).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dailypapers.services import daily, papers
from dailypapers.services.periods import Period, PeriodError, PeriodKind, parse_period
from dailypapers.store.base import utcnow
from dailypapers.web import schemas
from dailypapers.web.deps import get_db
from dailypapers.web.rendering import JSON, Alternate, body

router = APIRouter(prefix="/api", tags=["papers"])
DB = Annotated[Session, Depends(get_db)]
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": schemas.ApiError}, 422: {"model": schemas.ApiError}}


def _period(date: str | None, week: str | None, month: str | None) -> Period | None:
    candidates: list[tuple[PeriodKind, str | None]] = [("day", date), ("week", week), ("month", month)]
    given = [(kind, value) for kind, value in candidates if value]
    if len(given) > 1:
        raise HTTPException(422, "give at most one of date, week and month")
    if not given:
        return None
    kind, value = given[0]
    try:
        return parse_period(kind, value)
    except PeriodError as exc:
        raise HTTPException(422, f"{'date' if kind == 'day' else kind}: {exc}") from exc


@router.get("/daily_papers", response_model=list[schemas.HfDailyItem], responses=ERRORS,
            summary="Daily papers (hf.co's /api/daily_papers)")
def daily_papers(
    request: Request,
    db: DB,
    p: Annotated[int, Query(ge=0, le=100_000, description="Page number, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Papers per page.")] = 50,
    date: Annotated[str | None, Query(description="A day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(description="An ISO week, YYYY-Www (e.g. 2025-W09).")] = None,
    month: Annotated[str | None, Query(description="A month, YYYY-MM.")] = None,
    submitter: Annotated[str | None, Query(max_length=200, description="Only papers this user submitted.")] = None,
    sort: Annotated[Literal["publishedAt", "trending"], Query(
        description="publishedAt: newest featured day first, most upvoted first within a day; "
        "trending: the published trending score (see /papers/trending/about).")] = "publishedAt",
) -> Response:
    """Featured papers: of one day, week or month, or (with none given) the newest ones."""
    query = daily.DailyQuery(period=_period(date, week, month), submitter=submitter, sort=sort,
                             page=p, limit=limit)
    cards = daily.daily_papers(db=db, query=query, now=utcnow())
    return body(request, schemas.daily_items_json(cards), JSON)


@router.get("/papers", response_model=list[schemas.HfPaperInfo], responses=ERRORS,
            summary="All papers, newest first, by cursor")
def list_papers(
    request: Request,
    db: DB,
    cursor: Annotated[str | None, Query(max_length=200, description="From the previous page's Link header.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    """Every paper in the catalog, most recently published first. The next page's URL is in the
    ``Link: <…>; rel="next"`` header (GitHub style, which ``huggingface_hub``'s paginate follows)."""
    try:
        cards, next_cursor = papers.list_cards(db=db, cursor=cursor, limit=limit)
    except papers.CursorError as exc:
        raise HTTPException(422, str(exc)) from exc
    headers = {}
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor, limit=limit)
        headers["link"] = f'<{url}>; rel="next"'
    return body(request, schemas.papers_json(cards), JSON, headers=headers)


@router.get("/papers/{paper_id:path}", response_model=schemas.HfPaperInfo, responses=ERRORS,
            summary="One paper (hf.co's /api/papers/{id})")
def paper_info(request: Request, paper_id: str, db: DB) -> Response:
    """A paper by arXiv id (a version suffix such as ``v2`` is ignored)."""
    card = papers.get_card(db=db, paper_id=paper_id)
    if card is None:
        raise HTTPException(404, f"paper {paper_id[:80]!r} not found")
    return body(request, schemas.paper_json(card), JSON,
                alternates=[Alternate(f"/papers/{card.key}", "text/html", card.title)])
