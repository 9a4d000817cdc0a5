"""50 users upvote and un-upvote the same papers at once, over HTTP, from separate processes,
against a server with two worker processes; afterwards every count must be exact."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.services import sessions
from dailypapers.store import Paper, Upvote
from tests.community.conftest import start_site
from tests.community.voter import final_vote, voter
from tests.factories import make_paper, make_user

USERS = 50
PAPERS = 3
IMPORTED = [10, 0, 7]


def test_parallel_votes_keep_counts_exact(request, tmp_path):
    with ExitStack() as stack:
        # Start the database before the server so the papers and tokens exist when it runs.
        site = start_site(stack, request, tmp_path, workers=2, rate_limit_scale=10)
        with site.database.session() as db:
            papers = [make_paper(db, upvotes=n, featured_on=dt.date(2026, 1, 5)) for n in IMPORTED]
            tokens = []
            for i in range(USERS):
                user = make_user(db, username=f"voter{i}")
                tokens.append(sessions.create_api_token(db=db, user_id=user.id, name="load")[1])
            db.commit()
        keys = [p.key for p in papers]
        jobs = [(site.url, tokens[i], keys, i) for i in range(USERS)]
        with multiprocessing.get_context("spawn").Pool(10) as pool:
            results = pool.map(voter, jobs, chunksize=1)
        assert {status for statuses in results for status in statuses} == {200}
        with site.database.session() as db:
            for index, paper in enumerate(papers):
                expected = sum(final_vote(u, index) for u in range(USERS))
                rows = db.scalar(select(func.count()).select_from(Upvote).where(Upvote.paper_id == paper.id))
                stored = db.get(Paper, paper.id)
                assert rows == expected
                assert stored.upvotes == IMPORTED[index] + rows
                api = httpx.get(f"{site.url}/api/papers/{paper.key}").json()
                assert api["upvotes"] == IMPORTED[index] + expected


@pytest.mark.parametrize("method", ["post", "delete"])
def test_vote_api_needs_a_valid_token(site, method):
    response = httpx.request(method.upper(), f"{site.url}/api/papers/1605.08386/upvote")
    assert response.status_code == 401 and "Bearer" in response.headers["www-authenticate"]
    wrong = httpx.request(method.upper(), f"{site.url}/api/papers/1605.08386/upvote",
                          headers={"Authorization": "Bearer dp_not-a-token"})
    assert wrong.status_code == 401 and wrong.json()["error"]
