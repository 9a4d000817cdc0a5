"""Daily, weekly and monthly pages, trending and the home page: each handler parses, calls one
service function and renders (the HTML page or its ``.json`` twin, from the same context)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import daily, sample, trending
from dailypapers.services.periods import PeriodError, PeriodKind, containing, parse_period
from dailypapers.store.base import utcnow
from dailypapers.web import schemas
from dailypapers.web.auth import Viewed, Viewer
from dailypapers.web.deps import get_db
from dailypapers.web.rendering import JSON, Alternate, body, feed_alternates, render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]
PAGE_SIZE = 100
TRENDING_SIZE = 50


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/")
def home(request: Request, db: DB) -> Response:
    """The newest day that has papers (a redirect, so the address names the day)."""
    day = daily.latest_day(db=db)
    if day is None:
        return render(request, "period.html", {"view": None, "section": "daily"}, db=db)
    return RedirectResponse(containing("day", day).path, status_code=307)


def _period_page(db: Session, kind: PeriodKind, slug: str, page: int) -> daily.PeriodPage:
    try:
        period = parse_period(kind, slug)
    except PeriodError as exc:
        raise HTTPException(404, str(exc)) from exc
    return daily.period_page(db=db, period=period, page=page - 1, page_size=PAGE_SIZE)


def _period_json(request: Request, db: Session, kind: PeriodKind, slug: str, page: int) -> Response:
    view = _period_page(db, kind, slug, page)
    alt = [Alternate(view.period.path, "text/html", view.period.label)]
    return body(request, schemas.daily_items_json(view.cards), JSON, alternates=alt, db=db)


def _period_html(request: Request, viewer: Viewer, db: Session, kind: PeriodKind, slug: str,
                 page: int) -> Response:
    view = _period_page(db, kind, slug, page)
    viewer.preload_votes(db=db, paper_ids=[card.id for card in view.cards])
    period = view.period
    others = {k: containing(k, period.start) for k in ("day", "week", "month")}
    alternates = [Alternate(f"{period.path}.json", JSON, f"{period.label} (JSON)")]
    if kind == "day":
        alternates += feed_alternates(f"/feeds/date/{period.slug}", f"Daily Papers — {period.label}")
    return render(request, "period.html", {"view": view, "others": others, "section": "daily",
                                           "sample": sample.is_sample_only(db=db)},
                  alternates=alternates, db=db)


@router.get("/papers")
@router.get("/papers/")
def papers_index(
    request: Request, db: DB,
    date: Annotated[str | None, Query(max_length=20, description="A day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(max_length=20, description="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, Query(max_length=20, description="A month, YYYY-MM.")] = None,
    q: Annotated[str | None, Query(max_length=10_000)] = None,
) -> Response:
    """hf.co's addresses: ``/papers`` (today's papers), ``/papers?date=…``, ``?week=``, ``?month=``
    and ``/papers?q=…`` (a search). Each redirects (307) to this site's address for the same page,
    so a link pasted from hf.co lands where it would there."""
    if q is not None and q.strip():
        return RedirectResponse(f"/search?{urlencode({'q': q})}", status_code=307)
    asked: tuple[tuple[PeriodKind, str | None], ...] = (("day", date), ("week", week), ("month", month))
    for kind, value in asked:
        if value:
            try:
                return RedirectResponse(parse_period(kind, value.strip()).path, status_code=307)
            except PeriodError as exc:
                raise HTTPException(422, str(exc)) from exc
    return home(request, db)


@router.get("/papers/date")
def jump_to_day(date: Annotated[str, Query(max_length=20, description="A day, YYYY-MM-DD.")]) -> Response:
    """Target of the "go to day" form (a plain GET form, no script): redirect to the day's page."""
    try:
        return RedirectResponse(parse_period("day", date).path, status_code=303)
    except PeriodError as exc:
        raise HTTPException(422, str(exc)) from exc


# The .json twins come first: "{slug}" would otherwise swallow "2025-11-20.json".
@router.get("/papers/date/{slug}.json")
def day_json(request: Request, slug: str, db: DB, page: Page = 1) -> Response:
    return _period_json(request, db, "day", slug, page)


@router.get("/papers/week/{slug}.json")
def week_json(request: Request, slug: str, db: DB, page: Page = 1) -> Response:
    return _period_json(request, db, "week", slug, page)


@router.get("/papers/month/{slug}.json")
def month_json(request: Request, slug: str, db: DB, page: Page = 1) -> Response:
    return _period_json(request, db, "month", slug, page)


@router.get("/papers/date/{slug}")
def day_page(request: Request, slug: str, viewer: Viewed, db: DB, page: Page = 1) -> Response:
    return _period_html(request, viewer, db, "day", slug, page)


@router.get("/papers/week/{slug}")
def week_page(request: Request, slug: str, viewer: Viewed, db: DB, page: Page = 1) -> Response:
    return _period_html(request, viewer, db, "week", slug, page)


@router.get("/papers/month/{slug}")
def month_page(request: Request, slug: str, viewer: Viewed, db: DB, page: Page = 1) -> Response:
    return _period_html(request, viewer, db, "month", slug, page)


@router.get("/papers/trending")
def trending_page(request: Request, viewer: Viewed, db: DB, page: Page = 1) -> Response:
    ranked = trending.trending(db=db, now=utcnow(), limit=TRENDING_SIZE,
                               offset=(page - 1) * TRENDING_SIZE)
    viewer.preload_votes(db=db, paper_ids=[card.id for card, _score in ranked.ranked])
    context = {"ranked": ranked, "page": page - 1, "page_size": TRENDING_SIZE,
               "pages": max(1, -(-ranked.total // TRENDING_SIZE)), "section": "trending",
               "sample": sample.is_sample_only(db=db)}
    return render(request, "trending.html", context,
                  alternates=feed_alternates("/feeds/trending", "Trending papers"), db=db)


@router.get("/papers/trending/about")
def about_trending(request: Request) -> Response:
    context = {"gravity": trending.GRAVITY, "offset": trending.AGE_OFFSET_HOURS,
               "window": trending.WINDOW_DAYS, "min_papers": trending.MIN_WINDOW_PAPERS,
               "source": trending.SOURCE, "section": "trending",
               "examples": [(up, hours, trending.trending_score(upvotes=up, age_hours=hours))
                            for up, hours in ((10, 0), (10, 24), (50, 24), (50, 72), (200, 168))]}
    return render(request, "about_trending.html", context)
