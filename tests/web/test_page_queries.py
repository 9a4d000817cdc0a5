"""Pages load their data in the route, on one connection, in a number of statements that does not
grow with the number of cards; templates load nothing (a template opening its own session made
each request hold two connections and drained the pool under load)."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from dailypapers.services import comments, sessions, votes
from dailypapers.web.app import create_app
from dailypapers.web.auth import COOKIE
from tests.factories import make_paper, make_user


@dataclass
class Usage:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0
    open_now: int = 0
    most_open: int = 0


@contextmanager
def usage_of(database, client) -> Iterator[Usage]:
    """SQL statements and pool checkouts on the app's engine while the block runs (after the
    app's background keyword catch-up, which has connections of its own, has gone idle)."""
    worker = client.app.state.search.catch_up_worker
    if worker is not None:
        assert worker.wait_idle()
    usage = Usage()

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        usage.statements.append(statement)

    def on_checkout(*_args) -> None:
        usage.checkouts += 1
        usage.open_now += 1
        usage.most_open = max(usage.most_open, usage.open_now)

    def on_checkin(*_args) -> None:
        usage.open_now -= 1

    engine = database.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine.pool, "checkin", on_checkin)
    try:
        yield usage
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)
        event.remove(engine.pool, "checkin", on_checkin)


@pytest.fixture
def member(db):
    return make_user(db, username="reader")


@pytest.fixture
def client(settings, database, db, member):
    app = create_app(settings.model_copy(update={"page_cache_seconds": 0}), database)
    token = sessions.start_session(db=db, user_id=member.id, days=1)
    db.commit()
    with TestClient(app, cookies={COOKIE: token}) as client:
        yield client


def _statements_for(client, database, path: str) -> list[str]:
    client.get(path)  # warm-up: first-use work (index catch-up, lazy imports) is not per request
    with usage_of(database, client) as usage:
        response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return usage.statements


def test_day_page_statements_do_not_grow_with_cards(client, database, db, member):
    small_day, big_day = dt.date(2025, 2, 3), dt.date(2025, 2, 4)
    small = [make_paper(db, featured_on=small_day, upvotes=i) for i in range(2)]
    big = [make_paper(db, featured_on=big_day, upvotes=i) for i in range(25)]
    for paper in (small[0], big[3], big[7]):
        votes.upvote(db=db, user_id=member.id, paper_key=paper.key)
    db.commit()

    few = _statements_for(client, database, "/papers/date/2025-02-03")
    many = _statements_for(client, database, "/papers/date/2025-02-04")
    assert len(many) == len(few), "\n".join(many)
    # One query for the viewer's votes, limited to the page's papers.
    vote_queries = [s for s in many if "upvotes" in s.lower() and "user_id" in s.lower()]
    assert len(vote_queries) == 1, vote_queries
    assert " IN " in vote_queries[0].upper(), vote_queries  # not every vote the user ever cast

    page = client.get("/papers/date/2025-02-04").text
    assert page.count("upvotes upvoted") == 2  # the two voted cards show as voted, no others


@pytest.mark.parametrize("path", ["/papers/date/2025-02-03", "/papers/week/2025-W06",
                                  "/papers/month/2025-02", "/papers/trending", "/orgs/Lab",
                                  "/authors/Ada Lovelace", "/search?q=transformers", "/papers/{key}"])
def test_pages_use_one_connection_at_a_time_and_load_nothing_while_rendering(
        client, database, db, member, path):
    from dailypapers.store.base import utcnow

    today = utcnow().date()
    paper = make_paper(db, title="Sparse transformers for daily papers", authors=["Ada Lovelace"],
                       featured_on=dt.date(2025, 2, 3), organization=("Lab", "The Lab"))
    fresh = make_paper(db, title="Dense transformers", featured_on=today)
    other = make_paper(db, title="Transformers again", featured_on=dt.date(2025, 2, 3))
    for voted in (paper, fresh):
        votes.upvote(db=db, user_id=member.id, paper_key=voted.key)
    comments.add_comment(db=db, user_id=member.id, paper_key=paper.key, body="A *fine* paper")
    db.commit()

    url = path.replace("{key}", paper.key)
    client.get(url)
    with usage_of(database, client) as usage:
        response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    # The viewer's session lookup, then the route's session: never two at once, none while the
    # template renders (a template helper opening a session was a third and fourth checkout).
    assert usage.most_open == 1
    assert usage.checkouts <= 2, usage.statements
    assert 'class="upvotes upvotes-large upvoted"' in response.text or "upvotes upvoted" in response.text
    if path == "/papers/{key}":
        assert "A <em>fine</em> paper" in response.text
        assert 'class="similar-papers' in response.text  # loaded by the route
        assert other.title in response.text


def test_templates_have_no_data_loading_globals(settings, database):
    env = create_app(settings, database).state.templates.env
    assert "comment_threads" not in env.globals and "similar_papers_for" not in env.globals
