"""The JSON API in Hugging Face's daily-papers dialect: ``huggingface_hub.HfApi(endpoint=...)``
works against it unchanged (``list_daily_papers``, ``paper_info``, ``read_paper``).

``/api/papers/search`` belongs to the search routes, which must be included before this router
(``/api/papers/{paper_id}`` would otherwise take "search" for an id).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dailypapers.services import daily, papers
from dailypapers.services.periods import Period, PeriodError, PeriodKind, containing, overlap, parse_period
from dailypapers.store.base import utcnow
from dailypapers.web import schemas
from dailypapers.web.deps import get_db
from dailypapers.web.openapi import COMMON, ITEM_LINKS, PaperRef, link, responses
from dailypapers.web.rendering import JSON, Alternate, body

router = APIRouter(prefix="/api", tags=["papers"])
DB = Annotated[Session, Depends(get_db)]
WEEK = r"^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$"
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def _periods(date: dt.date | None, week: str | None, month: str | None) -> list[Period]:
    """The periods asked for. The schema's patterns allow a week 53 or a year 0 that the calendar
    does not have: such a period has no papers (404)."""
    periods = [containing("day", date)] if date else []
    given: tuple[tuple[PeriodKind, str | None], ...] = (("week", week), ("month", month))
    for kind, value in given:
        if value:
            try:
                periods.append(parse_period(kind, value))
            except PeriodError as exc:
                raise HTTPException(404, str(exc)) from exc
    return periods


@router.get("/daily_papers", response_model=list[schemas.HfDailyItem],
            responses=responses(*COMMON, 404, extra={200: ITEM_LINKS}),
            operation_id="dailyPapers", summary="Daily papers (hf.co's /api/daily_papers)")
def daily_papers(
    request: Request,
    db: DB,
    p: Annotated[int, Query(ge=0, le=100_000, description="Page number, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Papers per page.")] = 50,
    date: Annotated[schemas.IsoDate | None, Query(description="A day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(pattern=WEEK, description="An ISO week, YYYY-Www (e.g. 2025-W09).")] = None,
    month: Annotated[str | None, Query(pattern=MONTH, description="A month, YYYY-MM.")] = None,
    submitter: Annotated[str | None, Query(max_length=200, description="Only papers this user submitted.")] = None,
    sort: Annotated[Literal["publishedAt", "trending"], Query(
        description="publishedAt: newest featured day first, most upvoted first within a day; "
        "trending: the published trending score (see /papers/trending/about).")] = "publishedAt",
) -> Response:
    """Featured papers: of one day, week or month, or (with none given) the newest ones. Given
    together, ``date``, ``week`` and ``month`` each narrow the list (the days they share)."""
    periods = _periods(date, week, month)
    period = overlap(periods) if periods else None
    if periods and period is None:
        return body(request, b"[]", JSON)
    query = daily.DailyQuery(period=period, submitter=submitter, sort=sort, page=p, limit=limit)
    cards = daily.daily_papers(db=db, query=query, now=utcnow())
    return body(request, schemas.daily_items_json(cards), JSON, db=db)


@router.get("/papers", response_model=list[schemas.HfPaperInfo],
            responses=responses(*COMMON, 404, extra={200: {"links": {
                "paper": link("getPaper", "The first paper of the page.", paper_id="$response.body#/0/id"),
                "upvote": link("upvotePaper", "Upvote the first paper.", key="$response.body#/0/id"),
                "comment": link("commentOnPaper", "Comment on the first paper.", key="$response.body#/0/id"),
            }}}),
            operation_id="listPapers", summary="All papers, newest first, by cursor")
def list_papers(
    request: Request,
    db: DB,
    cursor: Annotated[str | None, Query(
        pattern=r"^[A-Za-z0-9_-]{1,200}$",
        description="From the previous page's Link header (404 for a cursor this server did not hand out).")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    """Every paper in the catalog, most recently published first. The next page's URL is in the
    ``Link: <…>; rel="next"`` header (GitHub style, which ``huggingface_hub``'s paginate follows)."""
    try:
        cards, next_cursor = papers.list_cards(db=db, cursor=cursor, limit=limit)
    except papers.CursorError as exc:
        raise HTTPException(404, str(exc)) from exc
    headers = {}
    if next_cursor is not None:
        # From the configured base URL, never the Host header: the response is cached publicly,
        # and a forged Host would send every paginating client to another server.
        base = request.app.state.settings.base_url.rstrip("/")
        headers["link"] = f'<{base}/api/papers?{urlencode({"cursor": next_cursor, "limit": limit})}>; rel="next"'
    return body(request, schemas.papers_json(cards), JSON, headers=headers, db=db)


def _not_a_paper_resource(request: Request) -> None:
    """``/api/papers/{id}/upvote`` and ``/comments`` are resources of their own (POST, DELETE):
    a GET there is a method they lack (405 with their ``Allow``), not a paper id with a slash.
    A dependency, so it answers before the path is validated as an id."""
    if request.url.path.rsplit("/", 1)[-1] in ("upvote", "comments"):
        raise HTTPException(405)


@router.get("/papers/{paper_id:path}", response_model=schemas.HfPaperInfo,
            dependencies=[Depends(_not_a_paper_resource)],
            responses=responses(*COMMON, 404, extra={200: {"links": {
                "similar": link("similarPapers", "Papers similar to this one.", paper_id="$response.body#/id"),
                "upvote": link("upvotePaper", "Upvote this paper.", key="$response.body#/id"),
            }}}),
            operation_id="getPaper", summary="One paper (hf.co's /api/papers/{id})")
def paper_info(request: Request, paper_id: PaperRef, db: DB) -> Response:
    """A paper by arXiv id (a version suffix such as ``v2`` is ignored)."""
    card = papers.get_card(db=db, paper_id=paper_id)
    if card is None:
        raise HTTPException(404, f"paper {paper_id[:80]!r} not found")
    return body(request, schemas.paper_json(card), JSON, db=db,
                alternates=[Alternate(f"/papers/{card.key}", "text/html", card.title)])
