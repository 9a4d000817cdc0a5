"""A member's own page as one read model: their upvotes, submissions (featured and kept for
later), comments and digest, loaded on the route's session before the template renders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.services import pending_submissions, subscriptions
from dailypapers.store import (
    Comment,
    DailyEntry,
    Paper,
    PendingSubmission,
    Subscription,
    Upvote,
)

SHOWN = 20


@dataclass(frozen=True)
class PaperLine:
    key: str
    title: str
    when: dt.datetime | None
    day: dt.date | None = None


@dataclass(frozen=True)
class CommentLine:
    id: int
    paper_key: str
    paper_title: str
    excerpt: str
    created_at: dt.datetime


@dataclass(frozen=True)
class AccountPage:
    upvoted: list[PaperLine]
    submitted: list[PaperLine]
    pending: list[PendingSubmission]
    comments: list[CommentLine]
    subscription: Subscription | None


def _excerpt(text: str, length: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length - 1].rstrip() + "…"


def account_page(*, db: Session, user_id: int) -> AccountPage:
    upvoted = [PaperLine(key, title, when) for key, title, when in db.execute(
        select(Paper.key, Paper.title, Upvote.created_at).join(Upvote, Upvote.paper_id == Paper.id)
        .where(Upvote.user_id == user_id).order_by(Upvote.created_at.desc(), Upvote.id.desc())
        .limit(SHOWN))]
    submitted = [PaperLine(key, title, when, day) for key, title, when, day in db.execute(
        select(Paper.key, Paper.title, DailyEntry.submitted_at, DailyEntry.day)
        .join(DailyEntry, DailyEntry.paper_id == Paper.id)
        .where(DailyEntry.submitter_user_id == user_id)
        .order_by(DailyEntry.day.desc(), DailyEntry.id.desc()).limit(SHOWN))]
    comments = [CommentLine(cid, key, title, _excerpt(body), created) for cid, key, title, body, created
                in db.execute(select(Comment.id, Paper.key, Paper.title, Comment.body, Comment.created_at)
                              .join(Paper, Paper.id == Comment.paper_id)
                              .where(Comment.user_id == user_id, Comment.deleted_at.is_(None))
                              .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(SHOWN))]
    return AccountPage(upvoted=upvoted, submitted=submitted,
                       pending=pending_submissions.of_user(db=db, user_id=user_id),
                       comments=comments,
                       subscription=subscriptions.subscription_of_user(db=db, user_id=user_id))
