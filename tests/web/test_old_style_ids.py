"""Old-style arXiv ids (``hep-th/9901001``) are real ids everywhere: pages, Markdown, the
HF-dialect API, search pins, similar papers, votes and comments."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from dailypapers.services.sessions import create_api_token
from dailypapers.web.app import create_app
from tests.factories import make_paper, make_user

OLD = "hep-th/9901001"


@pytest.fixture
def client(settings, database):
    return TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))


@pytest.fixture
def old_paper(db):
    make_paper(db, title="Noise in the reference paper", featured_on=None)
    return make_paper(db, arxiv_id=OLD, title="Strings on a lattice of branes",
                      abstract="Branes and strings interact.", featured_on=dt.date(1999, 1, 4))


def test_pages_markdown_and_api_answer_for_an_old_style_id(client, old_paper):
    page = client.get(f"/papers/{OLD}")
    assert page.status_code == 200 and "Strings on a lattice of branes" in page.text
    assert f'href="/papers/{OLD}.md"' in page.text
    assert client.get(f"/papers/{OLD}v2", follow_redirects=False).headers["location"] == f"/papers/{OLD}"
    assert client.get(f"/papers/{OLD}.md").text.startswith("# Strings on a lattice of branes")
    api = client.get(f"/api/papers/{OLD}").json()
    assert api["id"] == OLD
    day = client.get("/api/daily_papers", params={"date": "1999-01-04"}).json()
    assert [item["paper"]["id"] for item in day] == [OLD]
    assert client.get(f"/api/papers/{OLD}/similar").status_code == 200


@pytest.mark.parametrize("query", [OLD, f"{OLD}v1", f"https://arxiv.org/abs/{OLD}",
                                   f"hf.co/papers/{OLD}", f"branes {OLD}"])
def test_search_pins_an_old_style_id(client, old_paper, query):
    hits = client.get("/api/papers/search", params={"q": query}).json()
    assert hits and hits[0]["paper"]["id"] == OLD


def test_votes_and_comments_reach_an_old_style_paper(client, db, old_paper):
    user = make_user(db)
    _, token = create_api_token(db=db, user_id=user.id, name="t")
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    voted = client.post(f"/api/papers/{OLD}/upvote", headers=auth)
    assert voted.status_code == 200 and voted.json()["paper"] == OLD
    assert voted.json()["upvotes"] == old_paper.upvotes + 1
    comment = client.post(f"/api/papers/{OLD}/comments", headers=auth, json={"body": "Nice branes."})
    assert comment.status_code == 201, comment.text
    assert "Nice branes." in client.get(f"/papers/{OLD}").text


def test_a_curator_features_and_unfeatures_an_old_style_paper(client, db, old_paper):
    from dailypapers.store import Role
    from tests.community.helpers import log_in, post_form

    curator = make_user(db, role=Role.CURATOR)
    db.commit()
    assert log_in(client, curator.username).status_code == 303
    page = f"/papers/{OLD}/curate"
    assert client.get(page).status_code == 200
    featured = post_form(client, page, f"/papers/{OLD}/feature", {"day": "1999-01-05"})
    assert featured.headers["location"] == "/papers/date/1999-01-05"
    gone = post_form(client, page, f"/papers/{OLD}/unfeature", {})
    assert gone.status_code == 303 and gone.headers["location"] == page
    assert client.get("/api/daily_papers", params={"date": "1999-01-05"}).json() == []
