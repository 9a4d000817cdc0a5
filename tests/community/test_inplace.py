"""In-place actions (static/site.js + web/inplace.py) in headless Chromium, with scripting on and off.

With scripting, a vote or a comment changes the page where it happened: no navigation (a marker
set on ``window`` survives), no scroll. Without scripting, the same forms post and come back to
the same card (``#t-<id>``) or comment.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.community.helpers import browser_sign_up
from tests.conftest import ARTIFACTS
from tests.factories import make_paper

pytestmark = pytest.mark.browser
DAY = dt.date(2025, 3, 14)


@pytest.fixture(scope="module")
def long_day(site):
    """97 papers on one day, upvotes far apart so that one vote never reorders them."""
    with site.database.session() as db:
        return [make_paper(db, title=f"In-place paper {i:02d}", featured_on=DAY, upvotes=1000 - 5 * i).key
                for i in range(97)]


def _count(card) -> int:
    return int(card.locator(".upvote-count").inner_text())


def test_vote_on_card_61_keeps_scroll_and_updates_count(site, long_day, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_sign_up(page, site.url, "scrollvoter")
    page.goto(f"{site.url}/papers/date/{DAY.isoformat()}")
    cards = page.locator("article.card")
    assert cards.count() == 97
    card = cards.nth(60)
    assert card.locator("h3 a").inner_text() == "In-place paper 60"
    card.scroll_into_view_if_needed()
    page.evaluate("window.__notReloaded = true")
    scroll = page.evaluate("window.scrollY")
    assert scroll > 2000  # far down the page
    before = _count(card)

    card.locator("button.vote-button").click()
    expect(card.locator(".upvote-count")).to_have_text(str(before + 1))
    expect(card.locator("button.vote-button")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.scrollY") == scroll
    assert page.evaluate("window.__notReloaded") is True
    # Focus stays on the (new) button, so a keyboard user can take the vote back with Enter.
    assert page.evaluate("document.activeElement.classList.contains('vote-button')")
    expect(page.locator("[role=status]")).to_have_text(f"Upvoted; {before + 1} upvotes.")
    page.keyboard.press("Enter")
    expect(card.locator(".upvote-count")).to_have_text(str(before))
    expect(card.locator("button.vote-button")).to_have_attribute("aria-pressed", "false")
    card.locator("button.vote-button").click()
    expect(card.locator(".upvote-count")).to_have_text(str(before + 1))
    assert page.evaluate("window.scrollY") == scroll and page.evaluate("window.__notReloaded")
    page.screenshot(path=str(ARTIFACTS / "inplace-vote.png"))

    page.reload()  # it was stored
    expect(page.locator("article.card").nth(60).locator(".upvote-count")).to_have_text(str(before + 1))
    assert errors == []
    context.close()


def test_vote_without_scripting_comes_back_to_the_card(site, long_day, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    browser_sign_up(page, site.url, "plainvoter")
    page.goto(f"{site.url}/papers/date/{DAY.isoformat()}")
    card = page.locator("article.card").nth(60)
    card.scroll_into_view_if_needed()
    before = _count(card)
    card.locator("button.vote-button").click()
    page.wait_for_load_state("load")
    card = page.locator("article.card").nth(60)
    assert card.locator("h3 a").inner_text() == "In-place paper 60"
    assert _count(card) == before + 1
    assert card.locator("button.vote-button").get_attribute("aria-pressed") == "true"
    # The redirect names the card (#t-<id>): the browser shows it, not the top of the page.
    assert page.url.split("#")[1].startswith("t-")
    assert page.evaluate("window.scrollY") > 2000
    box = card.bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    card.locator("button.vote-button").click()  # and back
    page.wait_for_load_state("load")
    assert _count(page.locator("article.card").nth(60)) == before
    context.close()


def test_comment_reply_edit_delete_in_place(site, long_day, browser):
    key = long_day[3]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_up(page, site.url, "inplacecommenter")
    page.goto(f"{site.url}/papers/{key}")
    page.evaluate("window.__notReloaded = true")
    expect(page.locator(".no-comments")).to_be_visible()

    page.fill("form.comment-form textarea", "First *thought*")
    page.click("form.comment-form button[type=submit]")
    expect(page.locator(".comment-body em")).to_have_text("thought")
    expect(page.locator(".no-comments")).to_be_hidden()
    expect(page.locator("[data-count-of]")).to_have_text("1")
    assert page.locator("form.comment-form textarea").input_value() == ""

    # The reply box is collapsed until asked for.
    reply_box = page.locator(".thread textarea[name=body]")
    expect(reply_box).to_be_hidden()
    page.locator(".thread details.reply > summary").click()
    expect(reply_box).to_be_visible()
    reply_box.fill("A reply")
    page.locator(".thread .reply-form button[type=submit]").click()
    expect(page.locator(".replies .comment-body")).to_have_text("A reply")
    expect(reply_box).to_be_hidden()
    expect(page.locator("[data-count-of]")).to_have_text("2")

    # Edit in place; Cancel puts the comment back; Save shows the new text.
    top = page.locator(".thread > article.comment").first
    top.get_by_role("link", name="Edit your comment").click()
    editor = page.locator("form.comment-edit-form textarea")
    expect(editor).to_have_value("First *thought*")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("form.comment-edit-form")).to_have_count(0)
    top.get_by_role("link", name="Edit your comment").click()
    page.locator("form.comment-edit-form textarea").fill("Second **thought**")
    page.locator("form.comment-edit-form button[type=submit]").click()
    expect(page.locator(".thread > article.comment .comment-body strong")).to_have_text("thought")
    expect(page.locator(".thread > article.comment .edited")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "inplace-comments.png"), full_page=True)

    # Deleting the reply removes it; deleting the last comment removes its thread.
    page.locator(".replies article.comment").get_by_role("button", name="Delete comment").click()
    expect(page.locator(".replies article.comment")).to_have_count(0)
    page.locator(".thread > article.comment").get_by_role("button", name="Delete comment").click()
    expect(page.locator(".thread")).to_have_count(0)
    expect(page.locator(".no-comments")).to_be_visible()
    expect(page.locator("[data-count-of]")).to_have_text("0")
    assert page.evaluate("window.__notReloaded") is True
    page.reload()
    expect(page.locator(".thread")).to_have_count(0)
    assert errors == []
    context.close()


def test_comments_without_scripting(site, long_day, browser):
    key = long_day[4]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_sign_up(page, site.url, "plaincommenter")
    page.goto(f"{site.url}/papers/{key}")
    page.fill("form.comment-form textarea", "Plain comment")
    page.click("form.comment-form button[type=submit]")
    page.wait_for_load_state("load")
    assert "#comment-" in page.url
    expect(page.locator(".comment-body")).to_have_text("Plain comment")
    page.locator(".thread details.reply > summary").click()  # <details> opens without script
    page.locator(".thread textarea[name=body]").fill("Plain reply")
    page.locator(".thread .reply-form button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator(".replies .comment-body")).to_have_text("Plain reply")
    page.locator(".thread > article.comment").get_by_role("link", name="Edit your comment").click()
    page.wait_for_load_state("load")
    assert "/edit" in page.url
    page.locator("form.comment-edit-form textarea").fill("Plain comment, edited")
    page.locator("form.comment-edit-form button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator(".thread > article.comment .comment-body")).to_have_text("Plain comment, edited")
    context.close()


@pytest.mark.parametrize("member", [False, True])
def test_phone_header_keeps_the_first_card_on_screen(site, long_day, browser, member):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    if member:
        browser_sign_up(page, site.url, "phonemember")
    page.goto(f"{site.url}/papers/date/{DAY.isoformat()}")
    header = page.locator("header.site-header").bounding_box()
    card = page.locator("article.card").first.bounding_box()
    assert header is not None and card is not None
    assert header["height"] < 170  # banner, logo + navigation, search
    assert card["y"] + card["height"] <= 844  # the whole first card is on the first screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / f"phone-{'member' if member else 'visitor'}.png"))
    context.close()
