"""RSS 2.0 and Atom feeds: a day, the latest days, trending and an organization.

Every feed exists as ``.rss`` and ``.atom``; pages link theirs with ``<link rel="alternate">``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dailypapers.services import daily, orgs, trending
from dailypapers.services.feeds import MEDIA_TYPES, FeedFormat, FeedInfo, build_feed, feed_updated
from dailypapers.services.papers import PaperCard
from dailypapers.services.periods import PeriodError, parse_period
from dailypapers.store.base import utcnow
from dailypapers.web.deps import get_db
from dailypapers.web.rendering import body

router = APIRouter(prefix="/feeds", include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
LATEST_DAYS = 3
TRENDING_ITEMS = 50
ORG_ITEMS = 50


def _format(fmt: str) -> FeedFormat:
    if fmt == "rss":
        return "rss"
    if fmt == "atom":
        return "atom"
    raise HTTPException(404, "feeds end in .rss or .atom")


def feed_response(request: Request, *, title: str, description: str, page_path: str,
                  cards: list[PaperCard], fmt: FeedFormat,
                  notes: Mapping[str, str] | None = None) -> Response:
    """Build and send a feed; shared with the search feed so every feed looks alike."""
    base = request.app.state.settings.base_url.rstrip("/")
    info = FeedInfo(title=title, description=description, page_url=f"{base}{page_path}",
                    self_url=f"{base}{request.url.path}"
                    + (f"?{request.url.query}" if request.url.query else ""))
    return body(request, build_feed(info=info, cards=cards, fmt=fmt, base_url=base, notes=notes), MEDIA_TYPES[fmt],
                last_modified=feed_updated(cards))


@router.get("/latest.{fmt}")
def latest(request: Request, fmt: str, db: DB) -> Response:
    site = request.app.state.settings.site_name
    cards = daily.latest_cards(db=db, days=LATEST_DAYS)
    return feed_response(request, title=f"{site}: latest papers",
                         description=f"Papers featured on the last {LATEST_DAYS} days, newest day first.",
                         page_path="/", cards=cards, fmt=_format(fmt))


@router.get("/date/{day}.{fmt}")
def day(request: Request, day: str, fmt: str, db: DB) -> Response:
    try:
        period = parse_period("day", day)
    except PeriodError as exc:
        raise HTTPException(404, str(exc)) from exc
    view = daily.period_page(db=db, period=period, page_size=1000)
    site = request.app.state.settings.site_name
    return feed_response(request, title=f"{site}: {period.label}",
                         description=f"Papers featured on {period.label}, most upvoted first.",
                         page_path=period.path, cards=view.cards, fmt=_format(fmt))


@router.get("/trending.{fmt}")
def trending_feed(request: Request, fmt: str, db: DB) -> Response:
    ranked = trending.trending(db=db, now=utcnow(), limit=TRENDING_ITEMS)
    site = request.app.state.settings.site_name
    return feed_response(request, title=f"{site}: trending",
                         description="Papers ranked by upvotes decayed by age (see /papers/trending/about).",
                         page_path="/papers/trending", cards=[c for c, _ in ranked.ranked],
                         fmt=_format(fmt))


@router.get("/orgs/{handle}.{fmt}")
def org(request: Request, handle: str, fmt: str, db: DB) -> Response:
    view = orgs.org_page(db=db, handle=handle, page_size=ORG_ITEMS)
    if view is None:
        raise HTTPException(404, f"no organization {handle[:80]!r}")
    site = request.app.state.settings.site_name
    return feed_response(request, title=f"{site}: {view.org.name}",
                         description=f"Papers featured for {view.org.name}, newest first.",
                         page_path=f"/orgs/{view.org.handle}", cards=view.cards, fmt=_format(fmt))
