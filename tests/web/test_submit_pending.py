"""A submission never dead-ends, through the form or the JSON API: arXiv unreachable → kept as
pending (202, its state on the account page), and the scheduler inside the running app fetches it
later (real HTTP servers on 127.0.0.1: recorded arXiv answers, and an endpoint answering 503)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.services.sessions import create_api_token
from dailypapers.store import DailyEntry, PendingSubmission
from dailypapers.store.base import utcnow
from dailypapers.web.app import create_app
from tests.community.helpers import log_in, post_form
from tests.factories import make_user
from tests.sources.arxiv_api import recorded_arxiv_api


def _app(settings, database, arxiv_url: str, retry_seconds: int = 0):
    return create_app(settings.model_copy(update={
        "page_cache_seconds": 0, "submission_retry_seconds": retry_seconds,
        "arxiv_api_url": arxiv_url, "arxiv_min_interval": 0, "arxiv_retries": 0}), database)


def test_the_api_keeps_a_submission_when_arxiv_is_down_and_answers_its_state(settings, database, db):
    user = make_user(db, username="apiwriter")
    _, token = create_api_token(db=db, user_id=user.id, name="t")
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    with recorded_arxiv_api() as server, \
            TestClient(_app(settings, database, server.endpoint("overloaded"))) as client:
        answers = [client.post("/api/submissions", json={"id": "1605.08386"}, headers=auth)
                   for _ in range(2)]
        assert [a.status_code for a in answers] == [202, 202]  # was 503: the submission was lost
        body = answers[0].json()
        assert body["state"] == "pending" and body["arxiv_id"] == "1605.08386"
        assert body["url"] == "/account" and "arXiv is not answering" in body["message"]
        assert body["next_attempt_at"].endswith("Z") and answers[1].json() == body  # kept once
        assert db.scalars(select(PendingSubmission.arxiv_id)).all() == ["1605.08386"]
        # The form does the same, and the account page shows the state.
        log_in(client, "apiwriter")
        form = post_form(client, "/submit", "/submit", {"ref": "1605.08386"})
        assert form.status_code == 202 and "arXiv" in form.text
        assert "waiting for arXiv" in client.get("/account").text
        assert db.scalars(select(PendingSubmission.arxiv_id)).all() == ["1605.08386"]
        # The 202 is in the API's document.
        document = client.get("/openapi.json").json()
        assert "202" in document["paths"]["/api/submissions"]["post"]["responses"]


def test_the_running_app_fetches_kept_submissions_on_its_own(settings, database, db):
    user = make_user(db)
    db.add(PendingSubmission(user_id=user.id, arxiv_id="1605.08386", day=utcnow().date(),
                             state="pending", attempts=1, last_error="arXiv is not answering.",
                             next_attempt_at=utcnow(), created_at=utcnow()))
    db.commit()
    with recorded_arxiv_api() as server, \
            TestClient(_app(settings, database, server.url, retry_seconds=1)) as client:
        assert client.app.state.sync_scheduler is not None  # no sync schedule is set
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.expire_all()
            if db.scalar(select(PendingSubmission.state)) != "pending":
                break
            time.sleep(0.1)
    db.expire_all()
    assert db.scalar(select(PendingSubmission.state)) == "done"
    assert db.scalar(select(DailyEntry.submitter_user_id)) == user.id
