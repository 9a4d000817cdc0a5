""""New on arXiv" (``/papers/new``): the newest synced papers by category, for members to
submit and curators to feature."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dailypapers.services import arxiv_new
from dailypapers.services.submissions import today_utc
from dailypapers.web.auth import CurrentUser, Viewed
from dailypapers.web.deps import get_db
from dailypapers.web.rendering import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
PAGE_SIZE = 30


@router.get("/papers/new")
def new_on_arxiv(request: Request, viewer: Viewed, user: CurrentUser, db: DB,
                 category: Annotated[str, Query(max_length=60)] = "",
                 page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    settings = request.app.state.settings
    view = arxiv_new.new_on_arxiv(db=db, category=arxiv_new.check_category(category), page=page,
                                  page_size=PAGE_SIZE)
    viewer.preload_votes(db=db, paper_ids=[card.id for card in view.cards])
    chips = settings.categories(f"{settings.sync_arxiv_categories},{settings.auto_feature_categories}")
    return render(request, "arxiv_new.html", {"view": view, "chips": chips, "today": today_utc(),
                                              "is_curator": user.is_curator}, db=db)
