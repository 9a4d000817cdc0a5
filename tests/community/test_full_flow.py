"""A member's whole visit in headless Chromium against the real server (CSP on, as shipped)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from dailypapers.store.base import utcnow
from tests.community.helpers import PASSWORD, browser_sign_up
from tests.factories import make_paper


def count(page, key: str) -> int:
    box = page.locator(f"article.card:has(a[href='/papers/{key}']) .upvote-count").first
    return int(box.inner_text())


@pytest.mark.browser
def test_sign_up_vote_submit_comment_log_out(site, browser):
    today = utcnow().date()
    with site.database.session() as db:
        paper = make_paper(db, title="A paper to upvote", upvotes=4, featured_on=today - dt.timedelta(days=1))
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    browser_sign_up(page, site.url, "flowuser", display_name="Flow User")
    page.click("form.logout-form button")
    page.goto(site.url + "/login")
    page.fill("input[name=login]", "flowuser")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    assert page.locator(".account-link").inner_text() == "flowuser"

    day = f"/papers/date/{paper_day(today)}"
    page.goto(site.url + day)
    before = count(page, paper.key)
    page.locator(f"form[action='/papers/{paper.key}/upvote'] button").first.click()
    # The vote is sent in place (static/site.js): the count changes without a reload.
    box = page.locator(f"article.card:has(a[href='/papers/{paper.key}']) .upvote-count").first
    expect(box).to_have_text(str(before + 1))
    page.reload()
    assert count(page, paper.key) == before + 1
    assert page.locator(f"form[action='/papers/{paper.key}/unvote'] button[aria-pressed=true]").count() == 1

    page.goto(site.url + "/submit")
    page.fill("input[name=ref]", "https://arxiv.org/abs/1605.08386")
    page.click("form[action='/submit'] button[type=submit]")
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/papers/date/{today.isoformat()}")
    card = page.locator("article.card:has(a[href='/papers/1605.08386'])")
    assert "Heat-bath random walks with Markov bases" in card.inner_text()

    page.goto(site.url + "/papers/1605.08386")
    assert re.search(r"Submitted by\s+Flow User", page.inner_text("body"))
    page.fill("form.comment-form textarea[name=body]", "Nice **result**")
    page.click("form.comment-form button[type=submit]")
    expect(page.locator(".comment-body strong")).to_have_text("result")
    assert page.locator(".comment-author").first.inner_text() == "Flow User"

    page.click("form.logout-form button")
    page.wait_for_load_state("load")
    assert page.locator("a[href='/login']").count() >= 1
    page.goto(site.url + "/account")
    assert "/login" in page.url
    assert errors == []
    context.close()


def paper_day(today: dt.date) -> str:
    return (today - dt.timedelta(days=1)).isoformat()
