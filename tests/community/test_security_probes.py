"""Security probes against the running app (real server process, real Chromium)."""

from __future__ import annotations

import datetime as dt
import itertools
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import inspect

from dailypapers.services import accounts, comments
from dailypapers.store import Role
from tests.community.conftest import start_site
from tests.community.helpers import PASSWORD, csrf_from, log_in, post_form, sign_up
from tests.factories import make_paper, make_user

_n = itertools.count()
XSS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=1">',
    "';window.__xss=1;//",
]
SQLI = ["'; DROP TABLE papers; --", '" OR "1"="1', "1); DELETE FROM users; --"]


def client(site) -> httpx.Client:
    return httpx.Client(base_url=site.url, timeout=30)


def member(site, *, display_name: str = "") -> httpx.Client:
    http = client(site)
    assert sign_up(http, f"m{next(_n)}", display_name=display_name).status_code == 303
    return http


def paper(site, **overrides):
    with site.database.session() as db:
        return make_paper(db, featured_on=dt.date(2026, 2, 2), **overrides)


def curator(site) -> httpx.Client:
    name = f"cur{next(_n)}"
    with site.database.session() as db:
        make_user(db, username=name, role=Role.CURATOR)
    http = client(site)
    assert log_in(http, name).status_code == 303
    return http


def inert_in_browser(browser, site, http: httpx.Client, path: str, payload: str) -> None:
    """Open ``path`` as ``http``'s user in Chromium with the CSP bypassed (so escaping alone must
    hold); the payload must show as text and no script may run."""
    context = browser.new_context(bypass_csp=True)
    cookie = http.cookies.get("dp_session")
    if cookie:
        context.add_cookies([{"name": "dp_session", "value": cookie, "url": site.url}])
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site.url + path)
    page.wait_for_load_state("load")
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert payload in page.inner_text("body")
    context.close()


# Each case stores the payload through the real forms and returns the page that shows it.
def _comment(site, payload):
    p = paper(site)
    http = member(site)
    post_form(http, f"/papers/{p.key}", f"/papers/{p.key}/comments", {"body": payload})
    return http, f"/papers/{p.key}"


def _title_fix(site, payload):
    p = paper(site)
    http = curator(site)
    response = post_form(http, f"/papers/{p.key}/curate", f"/papers/{p.key}/metadata",
                         {"title": payload, "abstract": "a", "authors": ""})
    assert response.status_code == 303
    return http, f"/papers/{p.key}"


def _org_name(site, payload):
    http = member(site)
    handle = f"org{next(_n)}"
    assert post_form(http, "/orgs/new", "/orgs/new", {"handle": handle, "name": payload}).status_code == 303
    return http, f"/orgs/{handle}/members"


def _display_name(site, payload):
    p = paper(site)
    http = member(site, display_name=payload)
    post_form(http, f"/papers/{p.key}", f"/papers/{p.key}/comments", {"body": "hello"})
    return http, f"/papers/{p.key}"


def _username(site, payload):
    http = client(site)
    response = sign_up(http, payload)
    assert response.status_code == 400  # usernames are handles; the form shows what was typed
    return http, None


FIELDS = {"comment": _comment, "title fix": _title_fix, "org name": _org_name,
          "display name": _display_name, "username": _username}


@pytest.mark.browser
@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize("field", list(FIELDS))
def test_xss_payloads_render_inert(site, browser, field, payload):
    http, path = FIELDS[field](site, payload)
    if path is None:  # the refused sign-up page echoes the username back in its form
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
        page.goto(site.url + "/signup")
        page.fill("input[name=username]", payload)
        page.fill("input[name=email]", "x@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/signup'] button[type=submit]")
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None
        assert page.input_value("input[name=username]") == payload
        context.close()
        return
    inert_in_browser(browser, site, http, path, payload)


@pytest.mark.parametrize("payload", SQLI)
def test_sql_injection_strings_are_stored_and_shown_as_text(site, payload):
    p = paper(site)
    http = member(site, display_name=payload)
    post_form(http, f"/papers/{p.key}", f"/papers/{p.key}/comments", {"body": payload})
    page = http.get(f"/papers/{p.key}").text
    escaped = payload.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")
    assert escaped in page or payload in page
    login = client(site)
    assert log_in(login, payload, "whatever password").status_code == 400
    with site.database.session() as db:
        assert {"papers", "users", "comments"} <= set(inspect(db.get_bind()).get_table_names())
        assert [t.comment.body for t in comments.threads_for(db=db, paper_id=p.id)] == [payload]


def _actions(site) -> list[tuple[str, str, dict[str, str]]]:
    p = paper(site)
    return [(f"/papers/{p.key}", f"/papers/{p.key}/upvote", {}),
            (f"/papers/{p.key}", f"/papers/{p.key}/comments", {"body": "hi"}),
            ("/account", "/account/tokens", {"name": "t"}),
            ("/orgs/new", "/orgs/new", {"handle": f"h{next(_n)}", "name": "n"}),
            ("/account", "/logout", {}),
            ("/login", "/login", {"login": "x", "password": "y" * 10})]


@pytest.mark.parametrize("token", ["missing", "wrong", "other session's"])
def test_form_posts_without_the_right_csrf_token_are_403(site, token):
    http = member(site)
    other = member(site)
    for _page, action, data in _actions(site):
        if token == "missing":
            sent = dict(data)
        elif token == "wrong":
            sent = {**data, "csrf_token": "0" * 64}
        else:
            sent = {**data, "csrf_token": csrf_from(other.get("/account").text)}
        response = http.post(action, data=sent, follow_redirects=False)
        assert response.status_code == 403, action
        assert "security token" in response.text
    assert http.get("/account", follow_redirects=False).status_code == 200  # still logged in


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_changing_another_users_comment_is_403(site, action):
    p = paper(site)
    with site.database.session() as db:
        author = make_user(db)
        c = comments.add_comment(db=db, user_id=author.id, paper_key=p.key, body="mine")
        db.commit()
    intruder = member(site)
    token = csrf_from(intruder.get(f"/papers/{p.key}").text)
    data = {"csrf_token": token, "body": "defaced"} if action == "edit" else {"csrf_token": token}
    response = intruder.post(f"/comments/{c.id}/{action}", data=data, follow_redirects=False)
    assert response.status_code == 403
    if action == "edit":
        assert intruder.get(f"/comments/{c.id}/edit").status_code == 403
    with site.database.session() as db:
        assert comments.get_comment(db=db, comment_id=c.id).body == "mine"


def test_a_session_cookie_from_before_login_is_not_accepted_after(site):
    name = f"fix{next(_n)}"
    with site.database.session() as db:
        make_user(db, username=name)
    victim = client(site)
    planted = csrf_from(victim.get("/login").text) and victim.cookies.get("dp_session")
    assert log_in(victim, name).status_code == 303
    assert victim.cookies.get("dp_session") != planted
    attacker = httpx.Client(base_url=site.url, cookies={"dp_session": planted})
    response = attacker.get("/account", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert name not in attacker.get("/").text


def test_the_11th_rapid_failed_login_is_429(request, tmp_path):
    with ExitStack() as stack:
        site = start_site(stack, request, tmp_path)  # real limits
        with site.database.session() as db:
            accounts.sign_up(db=db, username="target", email="target@example.org", password=PASSWORD)
            db.commit()
        http = client(site)
        for attempt in range(10):
            assert log_in(http, "target", f"guess number {attempt}").status_code == 400
        refused = log_in(http, "target", PASSWORD)  # even the right password waits now
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        # Per address too: the same client trying other accounts is throttled as well.
        assert log_in(http, "someone-else", "guess number x").status_code == 429


def test_failed_logins_across_accounts_from_one_address_are_throttled(request, tmp_path):
    with ExitStack() as stack:
        site = start_site(stack, request, tmp_path)
        http = client(site)
        for attempt in range(10):
            assert log_in(http, f"nobody{attempt}", "wrong password").status_code == 400
        assert log_in(http, "nobody-else", "wrong password").status_code == 429
