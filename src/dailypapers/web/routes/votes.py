"""Upvote and un-upvote: HTML forms (session + CSRF) and the JSON API (bearer token)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dailypapers.services import ratelimits, votes
from dailypapers.web.auth import CSRF, ApiUser, CurrentUser, limit_by_user, safe_next
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


def _back(request: Request, next_url: str | None, key: str) -> Response:
    """Back to the page the button was on (the card's anchor), else to the paper."""
    target = next_url
    if not target:
        referer = urlsplit(request.headers.get("referer", ""))
        target = referer.path if referer.netloc == request.url.netloc else None
    return RedirectResponse(safe_next(target, f"/papers/{key}"), status_code=303)


@router.post("/papers/{key:path}/upvote", dependencies=FORM_LIMIT)
def upvote_form(request: Request, key: str, db: DB, user: CurrentUser,
                next: Annotated[str, Form()] = "") -> Response:
    votes.upvote(db=db, user_id=user.id, paper_key=key)
    return _back(request, next, key)


@router.post("/papers/{key:path}/unvote", dependencies=FORM_LIMIT)
def unvote_form(request: Request, key: str, db: DB, user: CurrentUser,
                next: Annotated[str, Form()] = "") -> Response:
    votes.unvote(db=db, user_id=user.id, paper_key=key)
    return _back(request, next, key)


_VOTE_RESPONSES = responses(*WRITE, 404, extra={200: {"links": {
    "paper": link("getPaper", "The paper, with its new count.", paper_id="$response.body#/paper"),
    "upvote": link("upvotePaper", "Upvote it (again: nothing changes).", key="$response.body#/paper"),
    "unvote": link("unvotePaper", "Take the upvote back.", key="$response.body#/paper"),
}}})


@router.post("/api/papers/{key:path}/upvote", dependencies=API_LIMIT, response_model=VoteState,
             responses=_VOTE_RESPONSES, openapi_extra=TOKEN, operation_id="upvotePaper", tags=["community"])
def upvote_api(key: PaperRef, db: DB, user: ApiUser) -> VoteState:
    """Upvote a paper as the token's user (repeating it changes nothing)."""
    return VoteState(paper=key, upvoted=True, upvotes=votes.upvote(db=db, user_id=user.id, paper_key=key))


@router.delete("/api/papers/{key:path}/upvote", dependencies=API_LIMIT, response_model=VoteState,
               responses=_VOTE_RESPONSES, openapi_extra=TOKEN, operation_id="unvotePaper", tags=["community"])
def unvote_api(key: PaperRef, db: DB, user: ApiUser) -> VoteState:
    """Take back the token user's upvote (no-op without one)."""
    return VoteState(paper=key, upvoted=False, upvotes=votes.unvote(db=db, user_id=user.id, paper_key=key))
