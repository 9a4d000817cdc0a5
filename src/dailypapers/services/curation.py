"""Curation (the "AK" role): feature and unfeature papers on a day, fix metadata, merge duplicates.

Nothing here commits: each function runs in the caller's transaction (``with db.begin():``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from dailypapers.services.errors import Forbidden, Invalid, NotFound
from dailypapers.sources.records import MAX_URL, is_http_url, normalize_title
from dailypapers.store import Author, Comment, DailyEntry, Paper, PaperAuthor, Upvote, User
from dailypapers.store.base import utcnow


def _curator(user: User) -> None:
    if not user.is_curator:
        raise Forbidden("only curators can do this")


def _paper(db: Session, key: str) -> Paper:
    paper = db.scalar(select(Paper).where(Paper.key == key))
    if paper is None:
        raise NotFound(f"no paper {key!r}")
    return paper


def curation_view(*, db: Session, user: User, paper_key: str) -> tuple[Paper, DailyEntry | None]:
    """The paper a curator is about to edit, and the day it is featured on (if any)."""
    _curator(user)
    paper = _paper(db, paper_key)
    return paper, db.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))


def feature(*, db: Session, user: User, paper_key: str, day: dt.date) -> DailyEntry:
    """Feature the paper on ``day`` (moving it there if it is featured on another day)."""
    _curator(user)
    paper = _paper(db, paper_key)
    entry = db.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))
    if entry is None:
        entry = DailyEntry(paper_id=paper.id, day=day, submitted_at=utcnow(),
                           submitted_by=user.shown_name, submitter_user_id=user.id)
        db.add(entry)
    else:
        entry.day = day
        entry.estimated = False  # a curator's day is a real one, not a seed card's guess
    db.flush()
    return entry


def unfeature(*, db: Session, user: User, paper_key: str) -> None:
    _curator(user)
    paper = _paper(db, paper_key)
    gone = db.execute(delete(DailyEntry).where(DailyEntry.paper_id == paper.id))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("this paper is not featured on any day")


def _url(value: str, field: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if not is_http_url(text) or any(c.isspace() for c in text):
        raise Invalid(f"{field} must be an http(s) URL of at most {MAX_URL} characters")
    return text


def _author_ids(db: Session, names: list[str]) -> list[int]:
    existing = dict(db.execute(select(Author.name, Author.id).where(Author.name.in_(set(names)))).all())
    for name in dict.fromkeys(names):
        if name not in existing:
            existing[name] = db.execute(insert(Author).values(name=name).returning(Author.id)).scalar_one()
    return [existing[n] for n in names]


def fix_metadata(*, db: Session, user: User, paper_key: str, title: str, abstract: str,
                 authors: list[str] | None = None, github_repo: str = "",
                 project_page: str = "") -> Paper:
    """Replace a paper's title, abstract, links and (when given) its author list."""
    _curator(user)
    paper = _paper(db, paper_key)
    clean_title = " ".join(title.split())
    if not clean_title or len(clean_title) > 1000:
        raise Invalid("a title has 1–1000 characters")
    if len(abstract) > 20_000:
        raise Invalid("an abstract has at most 20000 characters")
    names = [" ".join(a.split())[:300] for a in (authors or []) if a.strip()]
    paper.title, paper.title_key = clean_title, normalize_title(clean_title)
    paper.abstract = abstract.strip()
    paper.github_repo = _url(github_repo, "code link")
    paper.project_page = _url(project_page, "project page")
    paper.modified_at = utcnow()
    if authors is not None and names:
        db.execute(delete(PaperAuthor).where(PaperAuthor.paper_id == paper.id))
        ids = _author_ids(db, names)
        db.execute(insert(PaperAuthor), [{"paper_id": paper.id, "position": i, "author_id": aid}
                                         for i, aid in enumerate(ids)])
        paper.num_authors = len(names)
    db.flush()
    db.expire(paper)
    return paper


def merge(*, db: Session, user: User, keep_key: str, drop_key: str) -> Paper:
    """Fold the duplicate ``drop`` into ``keep`` (e.g. a seed card into its arXiv record).

    Moves the daily entry (when ``keep`` has none), votes (one per user), comments and missing
    metadata, takes the larger imported counts, recounts ``upvotes``/``num_comments`` in SQL and
    deletes ``drop`` — all in one transaction. ``keep`` takes ``drop``'s arXiv id if it had none.
    """
    _curator(user)
    if keep_key == drop_key:
        raise Invalid("pick two different papers")
    keep, drop = _paper(db, keep_key), _paper(db, drop_key)
    if keep.arxiv_id and drop.arxiv_id:
        raise Invalid("both papers have an arXiv id, so they are different papers")
    if db.scalar(select(DailyEntry.id).where(DailyEntry.paper_id == keep.id)) is None:
        db.execute(update(DailyEntry).where(DailyEntry.paper_id == drop.id).values(paper_id=keep.id))
    voters = select(Upvote.user_id).where(Upvote.paper_id == keep.id)
    db.execute(update(Upvote).where(Upvote.paper_id == drop.id, Upvote.user_id.not_in(voters))
               .values(paper_id=keep.id))
    db.execute(update(Comment).where(Comment.paper_id == drop.id).values(paper_id=keep.id))
    if not keep.author_links and drop.author_links:
        db.execute(update(PaperAuthor).where(PaperAuthor.paper_id == drop.id).values(paper_id=keep.id))
    fill = {name: getattr(drop, name) for name in ("abstract", "published_at", "updated_at",
                                                   "github_repo", "project_page", "num_authors",
                                                   "version", "categories")
            if not getattr(keep, name) and getattr(drop, name)}
    arxiv_id, drop_key_value = drop.arxiv_id, drop.key
    imported_up = max(keep.imported_upvotes, drop.imported_upvotes)
    imported_com = max(keep.imported_comments, drop.imported_comments)
    keep_id = keep.id
    drop_id = drop.id
    db.expunge(drop)
    # Core DELETE: the database cascades what is left (its authors, duplicate votes, embeddings),
    # and the unique arxiv_id/key are free before keep takes them.
    db.execute(delete(Paper).where(Paper.id == drop_id))
    if arxiv_id and not keep.arxiv_id:
        fill.update(arxiv_id=arxiv_id, key=drop_key_value)
    local_votes = select(func.count()).select_from(Upvote).where(Upvote.paper_id == keep_id)
    live_comments = select(func.count()).select_from(Comment).where(
        Comment.paper_id == keep_id, Comment.deleted_at.is_(None))
    db.execute(update(Paper).where(Paper.id == keep_id).values(
        **fill, imported_upvotes=imported_up, imported_comments=imported_com,
        upvotes=imported_up + local_votes.scalar_subquery(),
        num_comments=imported_com + live_comments.scalar_subquery(),
        modified_at=utcnow()))
    merged = db.get(Paper, keep_id)
    assert merged is not None
    db.refresh(merged)
    return merged
