"""Driving the community forms like a browser does: fetch the page, take its CSRF token, post."""

from __future__ import annotations

import os
import re
from email import message_from_string, policy

import httpx

from dailypapers.services import signups

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def post_form(client: httpx.Client, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_from(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def finish_link(username: str, *, display_name: str = "", next_url: str = "/") -> str:
    """The path of the link the sign-up mail holds (made with the secret every test process and
    the servers they start share; tests/community/test_signup.py reads the real mail)."""
    asked = signups.SignupRequest(email=f"{username.lower()}@example.org", username=username,
                                  display_name=display_name, next=next_url)
    token = signups.make_token(secret=os.environ["DAILYPAPERS_SECRET_KEY"], request=asked)
    return f"/signup/finish/{token}"


def console_mail_link(printed: str, path: str) -> str:
    """The path of the first link starting with ``path`` in the last mail the console printed."""
    raw = printed.rsplit("----- mail (console backend, not sent) -----\n", 1)[1]
    body = message_from_string(raw, policy=policy.default).get_body(("plain",))
    assert body is not None
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\S*)", body.get_content())  # type: ignore[attr-defined]
    assert match, f"no {path} link in the mail"
    return match.group(1)


def sign_up(client: httpx.Client, username: str, *, password: str = PASSWORD,
            display_name: str = "") -> httpx.Response:
    """Sign up through the form and the mailed link; the answer of the form when it refused,
    else that of the finishing page (303 with the session cookie)."""
    asked = post_form(client, "/signup", "/signup", {
        "username": username, "email": f"{username.lower()}@example.org",
        "display_name": display_name})
    if asked.status_code != 200:
        return asked
    link = finish_link(username, display_name=display_name)
    return post_form(client, link, link, {"username": username, "password": password})


def log_in(client: httpx.Client, login: str, password: str = PASSWORD) -> httpx.Response:
    return post_form(client, "/login", "/login", {"login": login, "password": password})


def browser_sign_up(page, base: str, username: str, *, display_name: str = "") -> None:
    """Sign up (and so log in) in a browser page, through the real forms and the mailed link."""
    page.goto(f"{base}/signup")
    page.fill("input[name=username]", username)
    if display_name:
        page.fill("input[name=display_name]", display_name)
    page.fill("input[name=email]", f"{username.lower()}@example.org")
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_load_state("load")
    page.goto(base + finish_link(username, display_name=display_name))
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action^='/signup/finish/'] button[type=submit]")
    page.wait_for_load_state("load")
