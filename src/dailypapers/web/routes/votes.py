"""Upvote and un-upvote: HTML forms (session + CSRF) and the JSON API (bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dailypapers.services import ratelimits, votes
from dailypapers.web import inplace
from dailypapers.web.auth import CSRF, ApiUser, CurrentUser, Viewed, Viewer, limit_by_user
from dailypapers.web.deps import get_db
from dailypapers.web.openapi import TOKEN, WRITE, PaperRef, link, responses

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]
FORM_LIMIT = [*CSRF, limit_by_user(ratelimits.VOTE_USER)]
API_LIMIT = [limit_by_user(ratelimits.VOTE_USER, api=True)]


class VoteState(BaseModel):
    paper: str
    upvoted: bool
    upvotes: int


def _answer(request: Request, db: Session, viewer: Viewer, key: str, next_url: str,
            large: str) -> Response:
    """The new vote box in place (site.js), else back to the page the button was on."""
    box = votes.vote_box(db=db, user_id=viewer.user.id, paper_key=key)  # type: ignore[union-attr]
    if not inplace.wants_fragment(request):
        return inplace.back(request, next_url, default=f"/papers/{key}", anchor=f"t-{box.id}")
    viewer.preload_votes(db=db, paper_ids=[box.id])
    said = "Upvoted" if box.upvoted else "Upvote removed"
    return inplace.fragment(request, "community/_vote.html",
                            {"card": box, "large": large == "1"},
                            status=f"{said}; {box.upvotes} upvote{'' if box.upvotes == 1 else 's'}.")


@router.post("/papers/{key:path}/upvote", dependencies=FORM_LIMIT)
def upvote_form(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
                next: Annotated[str, Form()] = "", large: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        votes.upvote(db=db, user_id=user.id, paper_key=key)
    return _answer(request, db, viewer, key, next, large)


@router.post("/papers/{key:path}/unvote", dependencies=FORM_LIMIT)
def unvote_form(request: Request, key: str, db: DB, user: CurrentUser, viewer: Viewed,
                next: Annotated[str, Form()] = "", large: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        votes.unvote(db=db, user_id=user.id, paper_key=key)
    return _answer(request, db, viewer, key, next, large)


_VOTE_RESPONSES = responses(*WRITE, 404, extra={200: {"links": {
    "paper": link("getPaper", "The paper, with its new count.", paper_id="$response.body#/paper"),
    "upvote": link("upvotePaper", "Upvote it (again: nothing changes).", key="$response.body#/paper"),
    "unvote": link("unvotePaper", "Take the upvote back.", key="$response.body#/paper"),
}}})


@router.post("/api/papers/{key:path}/upvote", dependencies=API_LIMIT, response_model=VoteState,
             responses=_VOTE_RESPONSES, openapi_extra=TOKEN, operation_id="upvotePaper", tags=["community"])
def upvote_api(key: PaperRef, db: DB, user: ApiUser) -> VoteState:
    """Upvote a paper as the token's user (repeating it changes nothing)."""
    with db.begin():
        count = votes.upvote(db=db, user_id=user.id, paper_key=key)
    return VoteState(paper=key, upvoted=True, upvotes=count)


@router.delete("/api/papers/{key:path}/upvote", dependencies=API_LIMIT, response_model=VoteState,
               responses=_VOTE_RESPONSES, openapi_extra=TOKEN, operation_id="unvotePaper", tags=["community"])
def unvote_api(key: PaperRef, db: DB, user: ApiUser) -> VoteState:
    """Take back the token user's upvote (no-op without one)."""
    with db.begin():
        count = votes.unvote(db=db, user_id=user.id, paper_key=key)
    return VoteState(paper=key, upvoted=False, upvotes=count)
