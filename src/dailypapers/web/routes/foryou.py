""""For you" (the member's own ranking of the recent catalog) and "not interested" on its cards.

"Not interested" is a plain form (303 back to the page) that ``site.js`` sends in place: the
card is then replaced by a one-line notice with an undo button, rendered by the page's own macro.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import ratelimits, recommend
from dailypapers.services.papers import get_card
from dailypapers.web import inplace
from dailypapers.web.auth import CSRF, CurrentUser, Viewed, Viewer, limit_by_user, render, safe_next
from dailypapers.web.deps import get_db

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
FORM_LIMIT = [*CSRF, limit_by_user(ratelimits.DISMISS_USER)]
PAGE_SIZE = 30


@router.get("/for-you")
def for_you_page(request: Request, user: CurrentUser, viewer: Viewed, db: DB,
                 day: Annotated[str | None, Query(max_length=10, description="A day, YYYY-MM-DD.")] = None,
                 ) -> Response:
    try:
        when = dt.date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise HTTPException(400, "day must look like 2025-11-20") from exc
    result = recommend.for_you(db=db, user_id=user.id, day=when, limit=PAGE_SIZE,
                               model=request.app.state.settings.search_embedding_model,
                               engine=request.app.state.search)
    viewer.preload_votes(db=db, paper_ids=[item.card.id for item in result.items])
    db.close()  # the context is plain data: the connection goes back before rendering
    return render(request, "for_you.html", {"result": result, "section": "foryou"},
                  headers={"Cache-Control": "private, no-store"})


def _answer(request: Request, db: Session, viewer: Viewer, key: str, next_url: str, dismissed: bool) -> Response:
    if not inplace.wants_fragment(request):
        return RedirectResponse(safe_next(next_url, "/for-you"), status_code=303)
    card = get_card(db=db, paper_id=key)
    if card is not None:
        viewer.preload_votes(db=db, paper_ids=[card.id])
    said = "Marked not interested; papers like it will rank lower." if dismissed else "Back in For you."
    return inplace.fragment(request, "foryou/_dismissed.html", {"card": card, "dismissed": dismissed},
                            status=said)


@router.post("/papers/{key:path}/not-interested", dependencies=FORM_LIMIT)
def not_interested(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
                   next: Annotated[str, Form(max_length=500)] = "") -> Response:
    with db.begin():
        recommend.dismiss(db=db, user_id=user.id, paper_key=key)
    return _answer(request, db, viewer, key, next, True)


@router.post("/papers/{key:path}/interested", dependencies=FORM_LIMIT)
def interested(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
               next: Annotated[str, Form(max_length=500)] = "") -> Response:
    with db.begin():
        recommend.undismiss(db=db, user_id=user.id, paper_key=key)
    return _answer(request, db, viewer, key, next, False)
