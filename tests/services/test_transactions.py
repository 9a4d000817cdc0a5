"""One transaction per use case: services write in their caller's transaction and never commit
what it had pending; the few use-case functions that commit refuse to run over pending work."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dailypapers.services import comments, ratelimits, sessions, votes
from dailypapers.services.errors import RateLimited
from dailypapers.store import Comment, LoginSession, Paper, RateLimit, Upvote
from dailypapers.store.db import PendingWork, use_case
from tests.factories import make_paper, make_user

SERVICES = Path(__file__).resolve().parents[2] / "src" / "dailypapers" / "services"
# Batch jobs whose unit of work is a batch or one delivery, each committed on purpose (imports
# resume after a crash, the outbox fences each mail, a copy is checked before it commits, a sync
# commits each harvested page with its checkpoint, the schedule claims each period).
COMMITTING_MODULES = {"catalog_import.py", "snapshot.py", "outbox.py", "dbcopy.py", "sync_arxiv.py", "sync_hf.py",
                      "sync_schedule.py", "pending_submissions.py"}


def test_no_service_commits_except_the_batch_jobs():
    """A static audit: ``.commit()`` and ``.rollback()`` appear only in the batch jobs; every
    other service runs in the transaction its caller opened (``with db.begin():``)."""
    offenders = []
    for path in sorted(SERVICES.glob("*.py")):
        if path.name in COMMITTING_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("commit", "rollback") \
                    and isinstance(node.ctx, ast.Load):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_upvote_and_comment_commit_nothing_themselves(db):
    paper = make_paper(db, upvotes=3, featured_on=dt.date(2026, 1, 5))
    user = make_user(db)
    votes.upvote(db=db, user_id=user.id, paper_key=paper.key)
    comments.add_comment(db=db, user_id=user.id, paper_key=paper.key, body="first")
    db.rollback()  # the caller's transaction decides: nothing stays
    assert db.scalar(select(func.count()).select_from(Upvote)) == 0
    assert db.scalar(select(func.count()).select_from(Comment)) == 0
    assert db.scalar(select(Paper.upvotes).where(Paper.id == paper.id)) == 3
    with use_case(db):
        assert votes.upvote(db=db, user_id=user.id, paper_key=paper.key) == 4
        assert votes.upvote(db=db, user_id=user.id, paper_key=paper.key) == 4  # once per user
    assert db.scalar(select(func.count()).select_from(Upvote)) == 1


def test_rate_limit_hit_does_not_commit_its_callers_work(db):
    user = make_user(db)
    sessions.start_session(db=db, user_id=user.id, days=1)  # the caller's pending write
    ratelimits.hit(db=db, rule=ratelimits.VOTE_USER, subject="#1")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 0
    assert db.scalar(select(func.count()).select_from(RateLimit)) == 0
    rule = ratelimits.Rule("tiny", 1, 60, "Slow down.")
    with use_case(db):
        ratelimits.hit(db=db, rule=rule, subject="x")
    with pytest.raises(RateLimited), use_case(db):
        ratelimits.hit(db=db, rule=rule, subject="x")


def test_a_use_case_refuses_to_commit_pending_work_and_ends_a_read_only_one(db):
    user = make_user(db)
    db.scalar(select(func.count()).select_from(Paper))  # autobegun, read only
    with use_case(db):
        sessions.start_session(db=db, user_id=user.id, days=1)
    sessions.start_session(db=db, user_id=user.id, days=1)  # pending, uncommitted
    with pytest.raises(PendingWork):
        sessions.log_in(db=db, login=user.username, password="wrong password!", ip="127.0.0.1",
                       days=1)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 1
