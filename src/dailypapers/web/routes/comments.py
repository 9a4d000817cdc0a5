"""Comments on paper pages: post, reply, edit and delete (forms), and the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dailypapers.services import comments, ratelimits
from dailypapers.services.errors import Forbidden
from dailypapers.store import Comment
from dailypapers.web import inplace, schemas
from dailypapers.web.auth import CSRF, ApiUser, CurrentUser, limit_by_user, render
from dailypapers.web.deps import MAX_ID, FormId, PathId, get_db
from dailypapers.web.openapi import TOKEN, WRITE, PaperRef, link, responses

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]


def _at(request: Request, db: Session, comment: Comment, said: str, *,
        whole_thread: bool = True) -> Response:
    """The comment in place (site.js: its thread, or the comment alone), else the page at it."""
    key, _ = comments.paper_of(db=db, comment=comment)
    if not inplace.wants_fragment(request):
        return RedirectResponse(f"/papers/{key}#comment-{comment.id}", status_code=303)
    context = {"card": {"key": key}}
    if comment.parent_id is None and whole_thread:
        thread = comments.thread_of(db=db, comment_id=comment.id)
        if thread is None:  # a deleted comment that nobody answered: its thread goes away
            return inplace.fragment(request, "community/_empty.html", {}, status=said)
        return inplace.fragment(request, "community/_thread.html", {**context, "thread": thread},
                                status=said)
    comment.author  # noqa: B018 - loaded before rendering: templates never query
    if comment.deleted_at is not None:
        return inplace.fragment(request, "community/_empty.html", {}, status=said)
    return inplace.fragment(request, "community/_comment.html", {**context, "c": comment}, status=said)


@router.post("/papers/{key:path}/comments", dependencies=[*CSRF, limit_by_user(ratelimits.COMMENT_USER)])
def post_comment(request: Request, key: str, db: DB, user: CurrentUser,
                 body: Annotated[str, Form()] = "",
                 parent_id: FormId = None) -> Response:
    with db.begin():
        comment = comments.add_comment(db=db, user_id=user.id, paper_key=key, body=body,
                                       parent_id=parent_id)
    return _at(request, db, comment, "Reply posted." if parent_id else "Comment posted.")


@router.get("/comments/{comment_id}/edit")
def edit_page(request: Request, comment_id: PathId, db: DB, user: CurrentUser) -> Response:
    comment = comments.get_comment(db=db, comment_id=comment_id)
    if comment.user_id != user.id:
        raise Forbidden("you can only change your own comments")
    key, title = comments.paper_of(db=db, comment=comment)
    context = {"comment": comment, "paper_key": key, "paper_title": title}
    if inplace.wants_fragment(request):
        return inplace.fragment(request, "community/_comment_edit_form.html", context)
    return render(request, "community/comment_edit.html", context)


@router.post("/comments/{comment_id}/edit", dependencies=CSRF)
def edit_comment(request: Request, comment_id: PathId, db: DB, user: CurrentUser,
                 body: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        comment = comments.edit_comment(db=db, user=user, comment_id=comment_id, body=body)
    return _at(request, db, comment, "Comment saved.", whole_thread=False)


@router.post("/comments/{comment_id}/delete", dependencies=CSRF)
def delete_comment(request: Request, comment_id: PathId, db: DB, user: CurrentUser) -> Response:
    with db.begin():
        comment = comments.delete_comment(db=db, user=user, comment_id=comment_id)
    return _at(request, db, comment, "Comment deleted.")


class CommentIn(BaseModel):
    # At least one character that str.strip() keeps (white space and the ASCII separators
    # 0x1c-0x1f are stripped): a blank comment is refused here as the service refuses it.
    body: str = Field(description="Markdown text, not blank.", max_length=comments.MAX_BODY,
                      pattern=r"[^\s\x1c-\x1f]")
    parent_id: int | None = Field(None, ge=1, le=MAX_ID,  # ids are 32-bit on PostgreSQL
                                  description="id of the comment this replies to (404 if there is none).")


class CommentOut(BaseModel):
    id: int
    paper: str
    parent_id: int | None
    author: str
    body: str
    html: str
    created_at: schemas.IsoTime


@router.post("/api/papers/{key:path}/comments", response_model=CommentOut, status_code=201,
             dependencies=[limit_by_user(ratelimits.COMMENT_USER, api=True)], tags=["community"],
             openapi_extra=TOKEN, operation_id="commentOnPaper",
             responses=responses(*WRITE, 404, extra={201: {"links": {
                 "paper": link("getPaper", "The paper commented on.", paper_id="$response.body#/paper"),
             }}}))
def post_comment_api(key: PaperRef, payload: CommentIn, db: DB, user: ApiUser) -> CommentOut:
    """Comment on a paper (or reply to a comment) as the token's user."""
    with db.begin():
        c = comments.add_comment(db=db, user_id=user.id, paper_key=key, body=payload.body,
                                 parent_id=payload.parent_id)
    return CommentOut(id=c.id, paper=key, parent_id=c.parent_id, author=user.username, body=c.body,
                      html=c.body_html, created_at=c.created_at)
