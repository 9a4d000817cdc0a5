"""The organization page links its members page and tells members they can submit for it."""

import datetime as dt

from fastapi.testclient import TestClient

from dailypapers.services import orgs_admin, sessions
from dailypapers.web.app import create_app
from dailypapers.web.auth import COOKIE
from tests.factories import make_paper, make_user


def test_org_page_links_members_and_shows_members_the_submit_hint(settings, database, db):
    make_paper(db, featured_on=dt.date(2025, 1, 6), organization=("Lab", "The Lab"))
    owner = make_user(db, username="owner")
    outsider = make_user(db, username="outsider")
    member = make_user(db, username="member")
    orgs_admin.create_org(db=db, user=owner, handle="Lab2", name="Lab Two")
    orgs_admin.add_member(db=db, actor=owner, handle="Lab2", username="member")
    db.commit()
    make_paper(db, featured_on=dt.date(2025, 1, 6), organization=("Lab2", "Lab Two"))
    app = create_app(settings.model_copy(update={"page_cache_seconds": 0}), database)

    def page_as(user, handle: str) -> str:
        cookies = {COOKIE: sessions.start_session(db=db, user_id=user.id, days=1)} if user else {}
        db.commit()
        response = TestClient(app, cookies=cookies).get(f"/orgs/{handle}")
        assert response.status_code == 200
        return response.text

    anonymous = page_as(None, "Lab2")
    assert 'href="/orgs/Lab2/members"' in anonymous and "Submit on behalf of" not in anonymous
    assert "Submit on behalf of" not in page_as(outsider, "Lab2")
    as_member = page_as(member, "Lab2")
    assert 'href="/submit?organization=Lab2">Submit on behalf of Lab Two</a>' in as_member
    assert "You are a member of Lab Two" in as_member
    assert "Submit on behalf of" not in page_as(member, "Lab")  # not their organization

    client = TestClient(app, cookies={COOKIE: sessions.start_session(db=db, user_id=member.id, days=1)})
    db.commit()
    form = client.get("/submit?organization=Lab2").text
    assert '<option value="Lab2" selected>' in form
    assert " selected>" not in client.get("/submit?organization=Lab").text  # not a member: ignored
