"""Driving the community forms like a browser does: fetch the page, take its CSRF token, post."""

from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def post_form(client: httpx.Client, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_from(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def sign_up(client: httpx.Client, username: str, *, password: str = PASSWORD,
            display_name: str = "") -> httpx.Response:
    return post_form(client, "/signup", "/signup", {
        "username": username, "email": f"{username.lower()}@example.org", "password": password,
        "display_name": display_name})


def log_in(client: httpx.Client, login: str, password: str = PASSWORD) -> httpx.Response:
    return post_form(client, "/login", "/login", {"login": login, "password": password})


def browser_sign_up(page, base: str, username: str) -> None:  # page: playwright Page
    """Sign up (and so log in) in a browser page, through the real form."""
    page.goto(f"{base}/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_load_state("load")
