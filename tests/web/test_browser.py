"""Acceptance: headless Chromium (with JavaScript off) reads the site like a visitor does."""


import pytest
from sqlalchemy import select

from dailypapers.services.imports import import_hf_json, import_seeds
from dailypapers.store import DailyEntry, Paper
from tests.conftest import ARTIFACTS, HF_API, SEEDS

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    import_hf_json(db=db, paths=HF_API)
    return live_server


def _context(browser, width: int, height: int):
    return browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=False)


def test_visitor_walks_days_and_opens_a_paper(browser, site, db):
    days = sorted(db.scalars(select(DailyEntry.day).distinct()).all())
    latest, before = days[-1], days[-2]
    top = db.execute(select(Paper).join(DailyEntry, DailyEntry.paper_id == Paper.id)
                     .where(DailyEntry.day == latest).order_by(Paper.upvotes.desc(), Paper.id)).scalars().first()
    context = _context(browser, 1280, 900)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{site}/")
    assert page.url == f"{site}/papers/date/{latest.isoformat()}"
    assert page.get_by_text("Get trending papers in your email inbox!").is_visible()

    card = page.locator("article.card").first
    assert card.locator("h3").inner_text() == top.title
    assert card.locator(".upvote-count").inner_text() == str(top.upvotes)
    assert card.locator("time.published").inner_text() == top.published_at.strftime("%b %-d, %Y")
    if top.num_comments:
        assert card.locator(".comment-count").inner_text() == str(top.num_comments)
    else:  # no "0" chip
        assert card.locator(".comment-count").count() == 0
    if top.github_repo:
        assert card.locator("a.github").get_attribute("href") == top.github_repo
    entry = db.scalars(select(DailyEntry).where(DailyEntry.paper_id == top.id)).one()
    who = card.locator(".meta-main").inner_text()
    if entry.organization is not None:
        assert entry.organization.name in who and "authors" not in who
    else:
        assert f"{top.author_count} authors" in who and "•" not in who
    # The abstract is clamped, and opens in place without any script.
    details = card.locator("details.abstract")
    assert details.get_attribute("open") is None
    closed = details.bounding_box()["height"]
    card.locator("summary").click()
    assert details.get_attribute("open") is not None
    assert details.bounding_box()["height"] > closed

    page.get_by_role("link", name="Previous day").click()
    assert page.url == f"{site}/papers/date/{before.isoformat()}"  # empty days are skipped
    page.get_by_role("link", name="Next day").click()
    assert page.url == f"{site}/papers/date/{latest.isoformat()}"

    page.locator("article.card h3 a").first.click()
    assert page.url == f"{site}/papers/{top.key}"
    assert page.locator("h1").inner_text() == top.title
    authors = page.locator(".author-list li")
    assert authors.count() == len(top.author_names) and authors.first.inner_text() == top.author_names[0]
    assert page.get_by_role("link", name="arXiv page").get_attribute("href") == f"https://arxiv.org/abs/{top.key}"
    assert page.get_by_role("link", name="PDF").get_attribute("href") == f"https://arxiv.org/pdf/{top.key}"
    assert page.locator(".paper-actions .upvote-count").inner_text() == str(top.upvotes)
    assert f"Featured on {latest.strftime('%b %-d, %Y')}" in page.locator(".paper-dates").inner_text()
    assert problems == []  # no CSP violation or failed resource
    context.close()


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 900), ("phone", 390, 844)])
def test_daily_page_screenshots(browser, site, name, width, height):
    ARTIFACTS.mkdir(exist_ok=True)
    context = _context(browser, width, height)
    page = context.new_page()
    page.goto(f"{site}/papers/date/2026-08-20")  # HF's saved day of 15 papers
    cards = page.locator("article.card")
    assert cards.count() > 10
    # Nothing sticks out sideways at this width; cards sit in columns that fit it.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = cards.first.bounding_box()
    columns = 1 if width < 640 else 3
    assert box["width"] <= width / columns
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert page.get_by_role("search").count() == 1 and page.get_by_label("Search papers").count() == 1
    page.screenshot(path=str(ARTIFACTS / f"daily-{name}.png"), full_page=False)
    page.goto(f"{site}/papers/date/2025-11-20")
    page.screenshot(path=str(ARTIFACTS / f"daily-hf-{name}.png"), full_page=False)
    page.locator("article.card h3 a").first.click()
    page.screenshot(path=str(ARTIFACTS / f"paper-{name}.png"), full_page=True)
    assert (ARTIFACTS / f"daily-{name}.png").stat().st_size > 10_000
    context.close()
