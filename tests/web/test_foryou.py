"""The For you page and "not interested" over HTTP (TestClient over the test's real database):
the reason on each card, the in-place fragment, the plain-form fallback, bad input refused."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dailypapers.search.embedder import store_vectors
from dailypapers.services import recommend, votes
from dailypapers.store import Dismissal
from dailypapers.web.app import create_app
from tests.community.helpers import csrf_from, log_in
from tests.factories import make_paper, make_user

DAY = dt.date(2025, 3, 10)


@pytest.fixture
def client(settings, database):
    app = create_app(settings.model_copy(update={"page_cache_seconds": 0, "submission_retry_seconds": 0}), database)
    with TestClient(app) as client:
        yield client


def paper(db, vector, **overrides):
    p = make_paper(db, featured_on=overrides.pop("day", DAY), **overrides)
    store_vectors(db=db, model=recommend.DEFAULT_MODEL, rows=[(p.id, "h", np.asarray(vector, dtype=np.float32))])
    db.commit()
    return p


def test_the_page_explains_each_card_and_not_interested_works_in_place(client, db):
    kept = paper(db, [1, 0, 0], day=DAY - dt.timedelta(days=20), title="Kept about sparse attention")
    near = paper(db, [0.9, 0.1, 0], title="Near paper")
    far = paper(db, [0, 0, 1], title="Far paper")
    ada = make_user(db, username="ada")
    votes.upvote(db=db, user_id=ada.id, paper_key=kept.key)
    db.commit()
    assert client.get("/for-you", follow_redirects=False).headers["location"].startswith("/login")
    log_in(client, "ada")
    page = client.get("/for-you")
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    html = page.text
    assert html.index("Near paper") < html.index("Far paper")
    assert f'Close to <a href="/papers/{kept.key}">Kept about sparse attention</a> in your library' in html
    assert 'href="/for-you" aria-current="page"' in html

    token = csrf_from(html)
    answer = client.post(f"/papers/{near.key}/not-interested", data={"csrf_token": token, "next": "/for-you"},
                         headers={"X-Inplace": "1"})
    assert answer.status_code == 200 and "Hidden:" in answer.text and f"/papers/{near.key}/interested" in answer.text
    assert "rank lower" in answer.headers["x-inplace-status"].replace("%20", " ")
    assert "Near paper" not in client.get("/for-you").text
    undo = client.post(f"/papers/{near.key}/interested", data={"csrf_token": token}, headers={"X-Inplace": "1"})
    assert undo.status_code == 200 and "Back on your list" in undo.text
    plain = client.post(f"/papers/{far.key}/not-interested", data={"csrf_token": token, "next": "/for-you"},
                        follow_redirects=False)
    assert (plain.status_code, plain.headers["location"]) == (303, "/for-you")
    assert db.scalar(select(func.count()).select_from(Dismissal)) == 1


def test_bad_input_changes_nothing(client, db):
    paper(db, [1, 0, 0])
    make_user(db, username="bob")
    log_in(client, "bob")
    token = csrf_from(client.get("/for-you").text)
    assert client.post("/papers/2599.00000/not-interested", data={"csrf_token": token}).status_code == 404
    assert client.post("/papers/2599.00000/not-interested", data={}).status_code in (400, 403)
    assert client.get("/for-you?day=yesterday").status_code == 400
    assert client.get("/for-you?day=" + "9" * 50).status_code == 422
    assert db.scalar(select(func.count()).select_from(Dismissal)) == 0


def test_a_new_member_sees_popular_papers_not_an_empty_page(client, db):
    paper(db, [1, 0, 0], title="Quiet paper", upvotes=1)
    paper(db, [0, 1, 0], title="Loud paper", upvotes=90)
    make_user(db, username="cy")
    log_in(client, "cy")
    html = client.get("/for-you").text
    assert "Your list is empty so far" in html
    assert html.index("Loud paper") < html.index("Quiet paper")
    assert "Popular in the last two weeks" in html


def test_the_page_says_when_a_model_of_the_members_own_ranks_it(client, db):
    from dailypapers.search import recommend as maths

    ada = make_user(db, username="ada")
    for i in range(maths.MIN_POSITIVES):
        kept = paper(db, [1, 0.1 * i, 0], day=DAY - dt.timedelta(days=20 + i), title=f"Kept {i}")
        votes.upvote(db=db, user_id=ada.id, paper_key=kept.key)
        db.commit()
    paper(db, [0.9, 0.1, 0], title="Near paper")
    dismissed = [paper(db, [0, 0.1 * j, 1], day=DAY - dt.timedelta(days=25)) for j in range(maths.MIN_DISMISSED)]
    for p in dismissed[:-1]:
        recommend.dismiss(db=db, user_id=ada.id, paper_key=p.key)
    db.commit()
    log_in(client, "ada")
    html = client.get("/for-you").text
    few = maths.MIN_DISMISSED - 1
    assert f"Ranked by {maths.MIN_POSITIVES} papers you kept and {few} marked not interested." in html
    assert "model of your own" not in html
    recommend.dismiss(db=db, user_id=ada.id, paper_key=dismissed[-1].key)
    db.commit()
    html = client.get("/for-you").text
    assert (f"Ranked by {maths.MIN_POSITIVES} papers you kept and {maths.MIN_DISMISSED} marked not interested, "
            "with a model of your own.") in html
