"""Submissions kept while arXiv is down, and the retry that features them later (real HTTP
servers on 127.0.0.1: one replaying recorded arXiv answers, one answering 503)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from dailypapers.services import pending_submissions, submissions, sync_state
from dailypapers.services.sync_schedule import SUBMISSIONS, SyncScheduler
from dailypapers.sources.arxiv_client import ArxivClient
from dailypapers.store import DailyEntry, Paper, PendingSubmission
from dailypapers.store.base import utcnow
from tests.factories import make_paper, make_user
from tests.sources.arxiv_api import recorded_arxiv_api

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def arxiv_pair():
    with recorded_arxiv_api() as server, \
            ArxivClient(base_url=server.url, min_interval=0) as up, \
            ArxivClient(base_url=server.endpoint("overloaded"), min_interval=0) as down:
        yield up, down


def _kept(db, down, user, ref="1605.08386") -> PendingSubmission:
    with pytest.raises(submissions.SourceUnavailable) as unavailable:
        submissions.submit_paper(db=db, arxiv=down, user=user, ref=ref, day=DAY)
    exc = unavailable.value
    assert exc.arxiv_id == "1605.08386" and "503" in exc.detail and "503" not in exc.message
    return pending_submissions.keep(db=db, user=user, arxiv_id=exc.arxiv_id, organization_id=None,
                                    day=DAY, reason=exc.message)


def test_kept_submission_is_featured_on_its_day_once_arxiv_answers(db, arxiv_pair):
    up, down = arxiv_pair
    user = make_user(db, display_name="Patient Member")
    kept = _kept(db, down, user, ref="https://huggingface.co/papers/1605.08386")
    assert kept.state == "pending" and kept.next_attempt_at > utcnow()
    # The same submission again is kept once.
    assert pending_submissions.keep(db=db, user=user, arxiv_id="1605.08386", organization_id=None,
                                    day=DAY, reason="x").id == kept.id
    # Not due yet: nothing is fetched.
    assert pending_submissions.retry_due(db=db, arxiv=up) == pending_submissions.RetrySummary()

    later = kept.next_attempt_at + dt.timedelta(seconds=1)
    assert pending_submissions.retry_due(db=db, arxiv=down, now=later).waiting == 1
    db.refresh(kept)
    assert kept.attempts == 2 and kept.next_attempt_at == later + 2 * pending_submissions.FIRST_RETRY

    summary = pending_submissions.retry_due(db=db, arxiv=up, now=kept.next_attempt_at)
    assert summary == pending_submissions.RetrySummary(done=1)
    db.refresh(kept)
    assert (kept.state, kept.paper_key) == ("done", "1605.08386")
    entry = db.scalars(select(DailyEntry)).one()
    assert (entry.day, entry.submitter_user_id, entry.submitted_by) == (DAY, user.id, "Patient Member")
    assert db.scalar(select(Paper.title)) == "Heat-bath random walks with Markov bases"
    assert [p.id for p in pending_submissions.of_user(db=db, user_id=user.id)] == [kept.id]


def test_a_claimed_submission_is_not_fetched_by_another_worker(db, arxiv_pair):
    up, down = arxiv_pair
    kept = _kept(db, down, make_user(db))
    now = kept.next_attempt_at
    assert pending_submissions._claim(db, kept.id, now)  # worker A holds it
    assert pending_submissions.retry_due(db=db, arxiv=up, now=now) == pending_submissions.RetrySummary()
    assert db.scalar(select(DailyEntry.id)) is None


def test_gives_up_after_two_days_and_reports_conflicts(db, arxiv_pair):
    up, down = arxiv_pair
    user = make_user(db)
    kept = _kept(db, down, user)
    late = kept.created_at + pending_submissions.GIVE_UP_AFTER
    assert pending_submissions.retry_due(db=db, arxiv=down, now=late).failed == 1
    db.refresh(kept)
    assert kept.state == "failed" and "did not answer for 2 days" in kept.last_error

    other = _kept(db, down, make_user(db))
    make_paper(db, arxiv_id="1605.08386", featured_on=dt.date(2025, 1, 2))  # featured meanwhile
    assert pending_submissions.retry_due(db=db, arxiv=up, now=other.next_attempt_at).failed == 1
    db.refresh(other)
    assert other.paper_key == "1605.08386" and "already featured on 2025-01-02" in other.last_error


def test_the_sync_scheduler_retries_kept_submissions_one_runner_at_a_time(settings, database, db):
    """The retry is part of the scheduler's run (no separate loop): every
    submission_retry_seconds, under the ``submissions`` lease, with or without a sync schedule."""
    user = make_user(db)
    kept = pending_submissions.keep(db=db, user=user, arxiv_id="1605.08386", organization_id=None,
                                    day=DAY, reason="arXiv is not answering right now.")
    with recorded_arxiv_api() as server:
        on = settings.model_copy(update={"sync_schedule": None, "submission_retry_seconds": 60,
                                         "arxiv_api_url": server.url, "arxiv_min_interval": 0})
        now = [kept.next_attempt_at]
        first = SyncScheduler(settings=on, database=database, clock=lambda: now[0])
        second = SyncScheduler(settings=on, database=database, clock=lambda: now[0])
        assert first.retry_submissions() is None  # the first run waits one interval
        now[0] += dt.timedelta(seconds=61)
        with database.session() as other:  # the first runner holds the lease (mid-run)
            assert sync_state.try_lease(db=other, source=SUBMISSIONS, holder=first.holder,
                                        seconds=300, now=now[0])
            other.commit()
        assert second.retry_submissions() is None
        db.refresh(kept)
        assert kept.state == "pending"
        first.tick()  # the holder's own tick: no period (no schedule), then the retry
        db.refresh(kept)
        assert (kept.state, kept.paper_key) == ("done", "1605.08386")
        assert first.retry_submissions() is None  # not again before the next interval
    [status] = [s for s in sync_state.statuses(db=db) if s.source == SUBMISSIONS]
    assert status.counts == {"featured": 1, "failed": 0, "waiting": 0}
    with database.session() as other:  # the lease was released
        assert sync_state.try_lease(db=other, source=SUBMISSIONS, holder="someone-else",
                                    seconds=300, now=now[0])
    assert SyncScheduler.start_if_enabled(
        settings=on.model_copy(update={"submission_retry_seconds": 0}), database=database) is None


def test_keeping_a_submission_never_commits_the_callers_pending_writes(db):
    # keep() is a whole use case: it used to end with a bare commit, which took along whatever
    # its caller had left pending. Now it refuses (PendingWork) and changes nothing.
    from dailypapers.store.db import PendingWork

    user = make_user(db, display_name="Before")
    db.commit()
    user.display_name = "Half-done edit"
    with pytest.raises(PendingWork):
        pending_submissions.keep(db=db, user=user, arxiv_id="1605.08386", organization_id=None,
                                 day=DAY, reason="arXiv is not answering right now.")
    db.rollback()
    assert db.get(type(user), user.id).display_name == "Before"
    assert db.scalars(select(PendingSubmission)).all() == []
    # With nothing pending it keeps the submission, committed in its own transaction.
    kept = pending_submissions.keep(db=db, user=user, arxiv_id="1605.08386", organization_id=None,
                                    day=DAY, reason="arXiv is not answering right now.")
    assert db.scalars(select(PendingSubmission.arxiv_id)).all() == [kept.arxiv_id]
