"""Upvotes: one per user and paper; ``papers.upvotes`` moves in the same transaction.

The count is changed with an atomic SQL increment (``upvotes = upvotes + 1``) right after the
row insert/delete, and only when that insert/delete really happened, so the invariant
``papers.upvotes = imported_upvotes + count(upvotes rows)`` survives any number of
concurrent voters and processes (the UNIQUE(user_id, paper_id) constraint decides races, through
``INSERT … ON CONFLICT DO NOTHING``, so a lost race leaves the transaction usable).

Nothing here commits: the caller's ``with db.begin():`` is the one transaction of the vote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from dailypapers.services.errors import NotFound
from dailypapers.store import Paper, Upvote
from dailypapers.store.base import utcnow
from dailypapers.store.bulk import insert_if_absent


def _paper_id(db: Session, paper_key: str) -> int:
    pid = db.scalar(select(Paper.id).where(Paper.key == paper_key))
    if pid is None:
        raise NotFound(f"no paper {paper_key!r}")
    return pid


def upvote(*, db: Session, user_id: int, paper_key: str) -> int:
    """Upvote a paper (a second upvote changes nothing); returns the paper's new count."""
    pid = _paper_id(db, paper_key)
    # Already voted (possibly by a concurrent request of the same user): nothing to do.
    if insert_if_absent(db=db, table=Upvote.__table__,
                        values={"user_id": user_id, "paper_id": pid, "created_at": utcnow()}):
        db.execute(update(Paper).where(Paper.id == pid).values(upvotes=Paper.upvotes + 1))
    return _count(db, pid)


def unvote(*, db: Session, user_id: int, paper_key: str) -> int:
    """Take back an upvote (no-op without one); returns the paper's new count."""
    pid = _paper_id(db, paper_key)
    gone = db.execute(delete(Upvote).where(Upvote.user_id == user_id, Upvote.paper_id == pid))
    if gone.rowcount == 1:  # type: ignore[attr-defined]
        db.execute(update(Paper).where(Paper.id == pid).values(upvotes=Paper.upvotes - 1))
    return _count(db, pid)


def _count(db: Session, paper_id: int) -> int:
    count = db.scalar(select(Paper.upvotes).where(Paper.id == paper_id))
    return int(count or 0)


def has_upvoted(*, db: Session, user_id: int, paper_id: int) -> bool:
    return db.scalar(select(func.count()).select_from(Upvote).where(
        Upvote.user_id == user_id, Upvote.paper_id == paper_id)) == 1


def upvoted_among(*, db: Session, user_id: int, paper_ids: Iterable[int]) -> set[int]:
    """Which of ``paper_ids`` the user has upvoted: one query for a whole page of cards."""
    ids = list(set(paper_ids))
    if not ids:
        return set()
    # A Core statement on the session's connection (plain ids, no ORM loading), built once.
    return set(db.connection().execute(_UPVOTED_AMONG, {"user_id": user_id, "ids": ids}).scalars())


_UPVOTED_AMONG = select(Upvote.paper_id).where(Upvote.user_id == bindparam("user_id"),
                                               Upvote.paper_id.in_(bindparam("ids", expanding=True)))


def upvoted_by(*, db: Session, user_id: int) -> set[int]:
    """Every paper id the user has upvoted (one indexed query; for pages that do not list their papers up front)."""
    return set(db.scalars(select(Upvote.paper_id).where(Upvote.user_id == user_id)))


@dataclass(frozen=True)
class VoteBox:
    """What the upvote box of one paper shows to one viewer (its in-place update after a vote)."""

    id: int
    key: str
    upvotes: int
    upvoted: bool


def vote_box(*, db: Session, user_id: int, paper_key: str) -> VoteBox:
    pid = _paper_id(db, paper_key)
    count = int(db.scalar(select(Paper.upvotes).where(Paper.id == pid)) or 0)
    return VoteBox(id=pid, key=paper_key, upvotes=count,
                   upvoted=has_upvoted(db=db, user_id=user_id, paper_id=pid))
