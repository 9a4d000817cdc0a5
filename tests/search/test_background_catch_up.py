"""The keyword index catches up in the background after commits that wrote papers: nothing runs
inside the commit (no second connection), and a burst of commits costs one catch-up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from dailypapers.services import votes
from dailypapers.web.app import create_app
from tests.factories import make_paper, make_user


def test_commits_that_write_papers_are_indexed_in_the_background(settings, database, db):
    app = create_app(settings, database)
    engine = app.state.search
    worker = engine.catch_up_worker
    assert worker is not None and worker.runs == 0
    before = engine.keyword.num_docs
    for i in range(5):  # a burst of commits...
        make_paper(db, title=f"Background indexing paper {i}", featured_on=dt.date(2026, 1, 5))
    assert worker.wait_idle()
    assert worker.runs >= 1 and worker.runs < 5  # ...caught up once or twice, not five times
    engine.keyword.refresh_reader()
    assert engine.keyword.num_docs == before + 5
    engine.stop()


def test_a_vote_commit_opens_no_other_connection_and_wakes_nothing(settings, database, db):
    app = create_app(settings, database)
    worker = app.state.search.catch_up_worker
    paper = make_paper(db, featured_on=dt.date(2026, 1, 5))
    user = make_user(db)
    assert worker.wait_idle()
    runs = worker.runs
    checkouts = []

    def listener(*_args: object) -> None:
        checkouts.append(1)

    event.listen(database.engine.pool, "checkout", listener)
    try:
        with database.session() as session, session.begin():
            votes.upvote(db=session, user_id=user.id, paper_key=paper.key)
    finally:
        event.remove(database.engine.pool, "checkout", listener)
    assert checkouts == [1]  # the vote's own connection, nothing opened in after_commit
    assert worker.wait_idle()
    # The vote wrote `papers` (its count), so a catch-up may run; it indexes nothing new.
    assert worker.runs <= runs + 1
    app.state.search.stop()
