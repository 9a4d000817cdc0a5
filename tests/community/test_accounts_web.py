import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dailypapers.store import LoginSession
from dailypapers.web.app import create_app
from tests.community.helpers import PASSWORD, csrf_from, log_in, post_form, sign_up
from tests.factories import make_user


@pytest.fixture
def client(settings, database):
    with TestClient(create_app(settings, database)) as client:
        yield client


def test_sign_up_logs_in_with_a_hardened_cookie(client):
    response = sign_up(client, "ada")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "dp_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # base_url is http here
    page = client.get("/account")
    assert page.status_code == 200 and "ada" in page.text


def test_cookie_is_secure_behind_https(settings, database):
    app = create_app(settings.model_copy(update={"base_url": "https://papers.example.org"}), database)
    with TestClient(app, base_url="https://testserver") as client:
        assert "Secure" in sign_up(client, "grace").headers["set-cookie"]


def test_login_rotates_the_session_token(client, db):
    make_user(db, username="lin")
    client.get("/login")
    before = client.cookies.get("dp_session")
    assert before
    assert log_in(client, "lin").status_code == 303
    after = client.cookies.get("dp_session")
    assert after and after != before
    assert client.get("/account").status_code == 200
    client.cookies.clear()
    client.cookies.set("dp_session", before)
    assert client.get("/account", follow_redirects=False).status_code == 303  # not logged in


def test_wrong_password_is_a_clear_400_and_logout_ends_the_session(client, db):
    make_user(db, username="kim")
    bad = log_in(client, "kim", "not the password")
    assert bad.status_code == 400 and "wrong username or password" in bad.text
    assert log_in(client, "kim").status_code == 303
    token = client.cookies.get("dp_session")
    account = client.get("/account").text
    out = client.post("/logout", data={"csrf_token": csrf_from(account)}, follow_redirects=False)
    assert out.status_code == 303
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 0
    client.cookies.clear()
    client.cookies.set("dp_session", token)
    assert client.get("/account", follow_redirects=False).headers["location"].startswith("/login")


def test_signup_errors_rerender_the_form_with_a_message(client):
    response = sign_up(client, "x", password="short")
    assert response.status_code == 400
    assert "username has 2–40" in response.text


def test_api_tokens_from_the_account_page(client):
    sign_up(client, "tok")
    created = post_form(client, "/account", "/account/tokens", {"name": "script"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    assert 'id="new-token">dp_' in created.text


def test_next_parameter_cannot_redirect_off_site(client, db):
    make_user(db, username="nx")
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"login": "nx", "password": PASSWORD, "next": "//evil.example/x",
                                           "csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_pages_seen_with_a_session_are_private(client):
    sign_up(client, "priv")
    response = client.get("/account")
    assert response.headers["cache-control"] == "private, no-cache"
    assert "Cookie" in [v.strip() for v in response.headers["vary"].split(",")]


def test_curators_see_the_curate_link_and_page(client, db):
    from dailypapers.store import Role
    from tests.factories import make_paper

    paper = make_paper(db)
    make_user(db, username="cur", role=Role.CURATOR)
    make_user(db, username="mem")
    log_in(client, "mem")
    assert "/curate" not in client.get(f"/papers/{paper.key}").text
    assert client.get(f"/papers/{paper.key}/curate").status_code == 403
    client.cookies.clear()
    log_in(client, "cur")
    assert f'href="/papers/{paper.key}/curate"' in client.get(f"/papers/{paper.key}").text
    page = client.get(f"/papers/{paper.key}/curate")
    assert page.status_code == 200 and "Merge a duplicate" in page.text
