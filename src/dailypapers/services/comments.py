"""Comments on papers: Markdown rendered once at write time and sanitized with nh3.

Threads are one level deep: a reply to a reply joins the top-level comment's thread.
``papers.num_comments`` (``numComments`` in the API) is moved by an atomic SQL increment in the
same transaction as the insert or the (soft) delete; the caller opens it (``with db.begin():``):
nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dailypapers.services.errors import Forbidden, Invalid, NotFound
from dailypapers.store import Comment, Paper, User
from dailypapers.store.base import utcnow

MAX_BODY = 10_000
ALLOWED_TAGS = {"p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol",
                "li", "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}


def render_markdown(text: str) -> str:
    """Markdown → HTML that is safe to embed: raw HTML is escaped by the parser, and nh3 then
    keeps only a small allow-list of tags, http(s)/mailto links, and no attributes but href."""
    html = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).render(text)
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow ugc noopener noreferrer")


def _check_body(body: str) -> str:
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise Invalid("a comment cannot be empty")
    if len(text) > MAX_BODY:
        raise Invalid(f"a comment has at most {MAX_BODY} characters")
    return text


def add_comment(*, db: Session, user_id: int, paper_key: str, body: str,
                parent_id: int | None = None) -> Comment:
    """Post a comment (or a reply) and count it on the paper in the same transaction."""
    text = _check_body(body)
    pid = db.scalar(select(Paper.id).where(Paper.key == paper_key))
    if pid is None:
        raise NotFound(f"no paper {paper_key!r}")
    if parent_id is not None:
        parent = db.get(Comment, parent_id)
        if parent is None or parent.paper_id != pid or parent.deleted_at is not None:
            raise NotFound("the comment you reply to does not exist (any more)")
        parent_id = parent.parent_id or parent.id
    comment = Comment(paper_id=pid, user_id=user_id, parent_id=parent_id, body=text,
                      body_html=render_markdown(text), created_at=utcnow())
    db.add(comment)
    db.flush()
    db.execute(update(Paper).where(Paper.id == pid).values(num_comments=Paper.num_comments + 1))
    return comment


def _own_comment(db: Session, comment_id: int, user: User, *, moderator_ok: bool) -> Comment:
    comment = db.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound("no such comment")
    if comment.user_id != user.id and not (moderator_ok and user.is_admin):
        raise Forbidden("you can only change your own comments")
    return comment


def edit_comment(*, db: Session, user: User, comment_id: int, body: str) -> Comment:
    """Replace the text of the user's own comment (moderators delete, they do not rewrite)."""
    comment = _own_comment(db, comment_id, user, moderator_ok=False)
    text = _check_body(body)
    comment.body, comment.body_html, comment.edited_at = text, render_markdown(text), utcnow()
    db.flush()
    return comment


def delete_comment(*, db: Session, user: User, comment_id: int) -> Comment:
    """Delete one's own comment, or any comment as a moderator; replies stay in the thread."""
    comment = _own_comment(db, comment_id, user, moderator_ok=True)
    gone = db.execute(update(Comment).where(Comment.id == comment.id, Comment.deleted_at.is_(None))
                      .values(deleted_at=utcnow(), body="", body_html=""))
    if gone.rowcount == 1:  # type: ignore[attr-defined]
        db.execute(update(Paper).where(Paper.id == comment.paper_id)
                   .values(num_comments=Paper.num_comments - 1))
    db.refresh(comment)
    return comment


def comment_url(*, db: Session, comment: Comment) -> str:
    """Where a comment is shown: its paper's page, scrolled to it."""
    key = db.scalar(select(Paper.key).where(Paper.id == comment.paper_id))
    return f"/papers/{key}#comment-{comment.id}"


def get_comment(*, db: Session, comment_id: int) -> Comment:
    comment = db.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise NotFound("no such comment")
    return comment


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)


def threads_for(*, db: Session, paper_id: int) -> list[Thread]:
    """The paper's threads, oldest first; deleted comments show only while they have replies."""
    rows = db.scalars(select(Comment).where(Comment.paper_id == paper_id)
                      .order_by(Comment.created_at, Comment.id)).all()
    threads: dict[int, Thread] = {}
    for row in rows:
        if row.parent_id is None:
            threads[row.id] = Thread(row)
    for row in rows:
        if row.parent_id is not None and row.deleted_at is None and row.parent_id in threads:
            threads[row.parent_id].replies.append(row)
    return [t for t in threads.values() if t.comment.deleted_at is None or t.replies]


def thread_of(*, db: Session, comment_id: int) -> Thread | None:
    """The thread a top-level comment opens, as a paper page shows it (None once it is gone)."""
    top = db.get(Comment, comment_id)
    if top is None or top.parent_id is not None:
        return None
    replies = list(db.scalars(select(Comment).where(Comment.parent_id == top.id,
                                                    Comment.deleted_at.is_(None))
                              .order_by(Comment.created_at, Comment.id)))
    if top.deleted_at is not None and not replies:
        return None
    for c in (top, *replies):
        c.author  # noqa: B018 - loaded now: templates never query
    return Thread(top, replies)


def paper_of(*, db: Session, comment: Comment) -> tuple[str, str]:
    """The key and title of the paper a comment is on."""
    row = db.execute(select(Paper.key, Paper.title).where(Paper.id == comment.paper_id)).one()
    return row[0], row[1]
