"""Security probes against the running app (real server process, real Chromium)."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
import time
from contextlib import ExitStack

import httpx
import psutil
import pytest
from sqlalchemy import inspect, select

from dailypapers.services import accounts, comments, orgs_admin, sessions
from dailypapers.store import Role, User
from tests.community.conftest import site_with_held_mail, start_site
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


# --- Probes of issue 10 (docs/reliability.md, "Probes") -------------------------------------

def _server_process(site) -> psutil.Process:
    port = site.url.rsplit(":", 1)[1]
    for proc in psutil.Process().children(recursive=False):
        if f"--port {port}" in " ".join(proc.cmdline()):
            return proc
    raise AssertionError(f"no server process on port {port}")


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("target", ["/api/submissions", "/login", "/api/papers/x/comments"])
def test_a_400_mb_body_is_refused_with_413_while_it_streams_before_authentication(site, framing, target):
    server = _server_process(site)
    rss_before = server.memory_info().rss
    total, chunk = 400 * 2**20, (b"a" if target == "/login" else b"{") * 2**20
    sent = 0

    def body():
        nonlocal sent
        while sent < total:
            sent += len(chunk)
            yield chunk

    form = target == "/login"
    headers = {"content-type": "application/x-www-form-urlencoded" if form else "application/json"}
    if framing == "content-length":
        headers["content-length"] = str(total)
    with httpx.Client(base_url=site.url, timeout=60) as http:
        response = http.post(target, content=body(), headers=headers)
    assert response.status_code == 413  # not 401/403: no credentials were even looked at
    assert sent < 100 * 2**20  # the server stopped reading long before the end
    assert server.memory_info().rss - rss_before < 64 * 2**20
    assert client(site).get("/healthz").status_code == 200


def test_a_body_under_the_limit_still_reaches_the_route(site):
    just_under = "x" * (site.settings.max_body_bytes - 200)
    response = client(site).post("/api/submissions", json={"id": just_under})
    assert response.status_code == 401  # read in full, then refused for want of a token


@pytest.mark.parametrize("number", [2**63, 2**70, -(2**63) - 1])
def test_integers_out_of_range_are_422_or_404_never_500(site, number):
    p = paper(site)
    http = member(site)
    token = csrf_from(http.get(f"/papers/{p.key}").text)
    answers = [
        http.post(f"/papers/{p.key}/comments", data={"csrf_token": token, "body": "hi",
                                                     "parent_id": str(number)}),
        http.get(f"/comments/{number}/edit"),
        http.post(f"/comments/{number}/edit", data={"csrf_token": token, "body": "x"}),
        http.post(f"/comments/{number}/delete", data={"csrf_token": token}),
        http.post(f"/account/tokens/{number}/revoke", data={"csrf_token": token}),
        http.get("/api/papers", params={"cursor": base64.urlsafe_b64encode(
            f"2025-01-01T00:00:00|{number}".encode()).decode().rstrip("=")}),
    ]
    with site.database.session() as db:
        user = db.scalar(select(User).order_by(User.id.desc()))
        _, raw = sessions.create_api_token(db=db, user_id=user.id, name="probe")
        db.commit()
    api = client(site)
    api.headers["authorization"] = f"Bearer {raw}"
    answers.append(api.post(f"/api/papers/{p.key}/comments", json={"body": "hi", "parent_id": number}))
    assert [r.status_code for r in answers if r.status_code not in (404, 422)] == []
    with site.database.session() as db:
        assert comments.threads_for(db=db, paper_id=p.id) == []


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(request, tmp_path):
    with ExitStack() as stack:
        site = start_site(stack, request, tmp_path)  # real limits, no trusted proxies
        http = client(site)
        for attempt in range(10):  # each from a "different address", says the header
            forged = {"x-forwarded-for": f"203.0.113.{attempt}"}
            token = csrf_from(http.get("/login").text)
            response = http.post("/login", data={"login": f"nobody{attempt}", "password": "wrong password",
                                                 "csrf_token": token}, headers=forged)
            assert response.status_code == 400
        assert log_in(http, "nobody-else", "wrong password").status_code == 429


def test_x_forwarded_for_is_believed_from_a_configured_proxy(request, tmp_path):
    with ExitStack() as stack:
        site = start_site(stack, request, tmp_path, trusted_proxies="127.0.0.1")
        http = client(site)
        for attempt in range(10):
            token = csrf_from(http.get("/login").text)
            response = http.post("/login", data={"login": f"nobody{attempt}", "password": "wrong password",
                                                 "csrf_token": token},
                                 headers={"x-forwarded-for": "203.0.113.7"})
            assert response.status_code == 400
        token = csrf_from(http.get("/login").text)
        data = {"login": "nobody-else", "password": "wrong password", "csrf_token": token}
        assert http.post("/login", data=data, headers={"x-forwarded-for": "203.0.113.7"}).status_code == 429
        # Another client behind the same proxy has its own budget.
        assert http.post("/login", data=data, headers={"x-forwarded-for": "198.51.100.1"}).status_code == 400


def _main_text(html: str) -> str:
    """The page's main content, without the per-request CSRF tokens."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r'value="[0-9a-f]{64}"', "", main)


def test_a_reset_answers_the_same_for_any_address_and_mails_off_the_request_path(request, tmp_path):
    with site_with_held_mail(request, tmp_path) as (site, sink, release):
        with site.database.session() as db:
            make_user(db, email="known@example.org")
        http = client(site)
        http.timeout = httpx.Timeout(20)
        # The SMTP server holds the mail: the page must not wait for it.
        known = post_form(http, "/account/reset", "/account/reset", {"email": "known@example.org"})
        unknown = post_form(http, "/account/reset", "/account/reset", {"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 200
        assert _main_text(known.text) == _main_text(unknown.text)
        assert sink.to("known@example.org") == []
        release.set()
        deadline = time.monotonic() + 30
        while not sink.to("known@example.org") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "/account/reset/" in sink.to("known@example.org")[0].message.get_body(("plain",)).get_content()
        assert sink.to("nobody@example.org") == []


def test_changing_the_password_on_the_web_logs_out_other_browsers_and_revokes_tokens(site):
    name = f"chg{next(_n)}"
    with site.database.session() as db:
        user = make_user(db, username=name)
        _, raw = sessions.create_api_token(db=db, user_id=user.id, name="script")
        db.commit()
    here, elsewhere = client(site), client(site)
    assert log_in(here, name).status_code == 303 and log_in(elsewhere, name).status_code == 303
    api = client(site)
    api.headers["authorization"] = f"Bearer {raw}"
    p = paper(site)
    assert api.post(f"/api/papers/{p.key}/upvote").status_code == 200
    response = post_form(here, "/account", "/account/password",
                         {"current_password": PASSWORD, "new_password": "an entirely new secret"})
    assert response.status_code == 200 and "Password changed" in response.text
    assert here.get("/account", follow_redirects=False).status_code == 200  # this browser goes on
    assert elsewhere.get("/account", follow_redirects=False).status_code == 303  # logged out
    assert api.post(f"/api/papers/{p.key}/upvote").status_code == 401


def test_inviting_by_e_mail_reveals_nothing_and_the_invitee_joins_by_accepting(site):
    admin = member(site)
    handle = f"inv{next(_n)}"
    assert post_form(admin, "/orgs/new", "/orgs/new", {"handle": handle, "name": "Invites"}).status_code == 303
    invitee_name = f"inv{next(_n)}"
    invitee = client(site)
    assert sign_up(invitee, invitee_name).status_code == 303
    members = f"/orgs/{handle}/members"
    answers = []
    for typed in (f"{invitee_name.lower()}@example.org", "nobody-at-all@example.org", invitee_name,
                  "no-such-user"):
        response = post_form(admin, members, members, {"invitee": typed, "role": "member"})
        answers.append((response.status_code, response.headers.get("location")))
        page = admin.get(members).text
        assert invitee_name not in page  # not a member until they accept
    assert len(set(answers)) == 1 and answers[0] == (303, f"{members}?invited=1")
    # The invitee accepts from their invitations page and only then appears.
    assert handle in invitee.get("/invitations").text
    accepted = post_form(invitee, "/invitations", f"/orgs/{handle}/invitation", {"answer": "accept"})
    assert accepted.status_code == 303
    assert invitee_name in admin.get(members).text
    assert post_form(invitee, "/invitations", f"/orgs/{handle}/invitation",
                     {"answer": "accept"}).status_code == 404  # used up


def test_the_last_admin_cannot_step_down_or_leave_over_the_web(site):
    name, handle = f"solo{next(_n)}", f"solo{next(_n)}"
    admin = client(site)
    assert sign_up(admin, name).status_code == 303
    assert post_form(admin, "/orgs/new", "/orgs/new", {"handle": handle, "name": "Solo"}).status_code == 303
    members = f"/orgs/{handle}/members"
    for action, data in ((f"{members}/{name}/role", {"role": "member"}), (f"{members}/{name}/remove", {}),
                         (members, {"invitee": name, "role": "member"})):
        post_form(admin, members, action, data)
        with site.database.session() as db:
            assert [(m.user.username, m.role) for m in orgs_admin.members(db=db, handle=handle)] == [
                (name, "admin")], action
    # The invitation to step down is refused when accepted, too.
    response = post_form(admin, "/invitations", f"/orgs/{handle}/invitation", {"answer": "accept"})
    assert response.status_code == 400
