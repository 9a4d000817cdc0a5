""""Not interested" on For you in headless Chromium: the card gives way in place (no reload, the
status read out), the papers near it move down after a reload, and undo brings it back."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from dailypapers.search.embedder import store_vectors
from dailypapers.services import recommend, votes
from dailypapers.store import User
from tests.community.helpers import browser_sign_up
from tests.conftest import ARTIFACTS
from tests.factories import make_paper

pytestmark = pytest.mark.browser
DAY = dt.date(2025, 4, 7)


def _paper(db, vector, **overrides):
    p = make_paper(db, featured_on=overrides.pop("day", DAY), **overrides)
    store_vectors(db=db, model=recommend.DEFAULT_MODEL, rows=[(p.id, "h", np.asarray(vector, dtype=np.float32))])
    db.commit()
    return p.key


def test_not_interested_in_place_moves_the_ranking(site, browser):
    with site.database.session() as db:
        kept = _paper(db, [1, 0, 0], day=DAY - dt.timedelta(days=30), title="FY kept paper")
        near = _paper(db, [0.75, 0.66, 0], title="FY near paper")
        # three words like the others: the lexical features tie, the vectors decide
        twin = _paper(db, [0.72, 0.69, 0], title="FY twin paper")
        side = _paper(db, [0.7, 0, 0.714], title="FY side paper")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_sign_up(page, site.url, "foryoureader")
    with site.database.session() as db:
        uid = db.scalar(select(User.id).where(User.username == "foryoureader"))
        votes.upvote(db=db, user_id=uid, paper_key=kept)
        db.commit()

    page.goto(f"{site.url}/for-you?day={DAY.isoformat()}")
    items = page.locator(".foryou-item[data-foryou^='25']")
    order = [items.nth(i).get_attribute("data-foryou") for i in range(items.count())]
    assert order[:3] == [near, twin, side]
    expect(items.first.locator(".foryou-reason")).to_have_text("Close to FY kept paper in your library")
    page.evaluate("window.__notReloaded = true")

    items.first.locator("button", has_text="Not interested").click()
    hidden = page.locator(f".foryou-dismissed[data-foryou='{near}']")
    expect(hidden).to_contain_text("Hidden:")
    expect(page.locator("[role=status]")).to_have_text("Marked not interested; papers like it will rank lower.")
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=str(ARTIFACTS / "foryou-not-interested.png"))

    page.reload()
    items = page.locator(".foryou-item[data-foryou^='25']")
    after = [items.nth(i).get_attribute("data-foryou") for i in range(items.count())]
    assert near not in after
    # cosines to the kept paper: near .75, twin .72, side .70; dismissing near takes half of the
    # cosine to it off each: the twin (.998 to it) falls to .22, the side paper (.53) keeps .44
    assert after.index(side) < after.index(twin)

    page.goto(f"{site.url}/for-you?day={DAY.isoformat()}")
    page.locator(f".foryou-item[data-foryou='{side}'] button", has_text="Not interested").click()
    undo = page.locator(f".foryou-dismissed[data-foryou='{side}'] button", has_text="Undo")
    undo.click()
    expect(page.locator(f".foryou-item[data-foryou='{side}'] .foryou-reason")).to_have_text("Back on your list")
    assert errors == []
    context.close()
