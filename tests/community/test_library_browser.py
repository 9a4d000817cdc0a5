"""The library in headless Chromium, with scripting on and off: save on a card (in place, the
scroll kept), collect, mark read and note on the paper page, follow an author, an organization
and a search, and the export → import → export round trip through the real download link and
upload form (BibTeX → collection → BibTeX keeps every matched paper)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.community.helpers import browser_sign_up
from tests.conftest import ARTIFACTS
from tests.factories import make_paper

pytestmark = pytest.mark.browser
DAY = dt.date(2025, 4, 2)


@pytest.fixture(scope="module")
def day_papers(site):
    """40 papers on one day (upvotes far apart: nothing reorders) by two authors, one organization."""
    with site.database.session() as db:
        return [make_paper(db, title=f"Library paper {i:02d}", featured_on=DAY, upvotes=500 - 5 * i,
                           authors=["Grace Hopper" if i % 2 else "Edsger Dijkstra"],
                           organization=("Lab", "The Lab") if i < 5 else None).key
                for i in range(40)]


def _new_page(browser, *, script: bool):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=script,
                                  accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def _entries(bib: str) -> list[str]:
    return sorted(e.strip() for e in bib.split("\n\n") if e.strip())


def test_save_collect_read_note_and_follow_in_place(site, day_papers, browser):
    context, page, errors = _new_page(browser, script=True)
    browser_sign_up(page, site.url, "libraryreader")
    page.goto(f"{site.url}/papers/date/{DAY.isoformat()}")
    card = page.locator("article.card").nth(30)
    card.scroll_into_view_if_needed()
    page.evaluate("window.__notReloaded = true")
    scroll = page.evaluate("window.scrollY")
    assert scroll > 1000
    card.locator("button.save-button").click()
    expect(card.locator("button.save-button")).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".save-label")).to_have_text("Saved")
    expect(page.locator("[role=status]")).to_have_text("Saved to your library.")
    assert page.evaluate("window.scrollY") == scroll and page.evaluate("window.__notReloaded")
    assert page.evaluate("document.activeElement.classList.contains('save-button')")
    page.keyboard.press("Enter")  # and back, from the keyboard
    expect(card.locator("button.save-button")).to_have_attribute("aria-pressed", "false")
    card.locator("button.save-button").click()
    expect(card.locator(".save-label")).to_have_text("Saved")

    # The paper page's panel: a new collection, read, a note; all without a reload.
    key = day_papers[30]
    page.goto(f"{site.url}/papers/{key}")
    page.evaluate("window.__notReloaded = true")
    panel = page.locator("#library-panel")
    expect(panel.locator(".save-label")).to_have_text("Saved")
    panel.locator("input[name=new_collection]").fill("Compilers")
    panel.locator(".new-collection-form button").click()
    expect(page.locator("#library-panel .collection-chip", has_text="Compilers")).to_have_attribute(
        "aria-pressed", "true")
    page.locator("#library-panel .read-button").click()
    expect(page.locator("#library-panel .read-label")).to_have_text("Read")
    page.locator("#library-panel textarea[name=note]").fill("Check the proof of lemma 2")
    page.locator("#library-panel .note-form button").click()
    expect(page.locator("[role=status]")).to_have_text("Note saved.")
    # Out of Saved, still in Compilers: still in the library.
    page.locator("#library-panel .collection-chip", has_text="Saved").click()
    expect(page.locator("#library-panel .collection-chip", has_text="Saved")).to_have_attribute(
        "aria-pressed", "false")
    expect(page.locator("#library-panel .save-label")).to_have_text("Saved")
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=str(ARTIFACTS / "library-panel.png"))
    page.reload()
    expect(page.locator("#library-panel textarea[name=note]")).to_have_value("Check the proof of lemma 2")

    # Follows, in place, on an author's, an organization's and a search's page.
    for path in ("/authors/Grace Hopper", "/orgs/Lab", "/search?q=library"):
        page.goto(f"{site.url}{path}")
        page.locator("button.follow-button").click()
        expect(page.locator("button.follow-button")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("button.follow-button")).to_contain_text("Following")
    page.goto(f"{site.url}/account")
    follows = page.locator("#follows")
    expect(follows.locator("button.follow-button")).to_have_count(3)
    follows.locator("li", has_text="The Lab").locator("button.follow-button").click()
    expect(follows.locator("li", has_text="The Lab").locator("button.follow-button")).to_contain_text("Follow")

    page.goto(f"{site.url}/library")
    expect(page.locator(".library-entry")).to_have_count(1)
    expect(page.locator(".library-entry .note-text")).to_have_text("Check the proof of lemma 2")
    expect(page.locator(".library-entry .read-chip")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)
    assert errors == []
    context.close()


@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_bibtex_export_import_export_round_trip(site, day_papers, browser, tmp_path: Path, script):
    context, page, errors = _new_page(browser, script=script)
    browser_sign_up(page, site.url, f"roundtrip{int(script)}")
    chosen = day_papers[2:12]
    for key in chosen:  # saved from their pages' panels
        page.goto(f"{site.url}/papers/{key}")
        page.locator("#library-panel input[name=new_collection]").fill("To export")
        page.locator("#library-panel .new-collection-form button").click()
        expect(page.locator("#library-panel .collection-chip", has_text="To export")).to_have_attribute(
            "aria-pressed", "true")
    page.goto(f"{site.url}/library")
    page.get_by_role("link", name="To export").click()
    expect(page.locator("article.card")).to_have_count(10)
    with page.expect_download() as first:
        page.locator(".exports").get_by_role("link", name="BibTeX").click()
    exported = tmp_path / "export.bib"
    first.value.save_as(exported)
    assert first.value.suggested_filename.endswith(".bib")
    assert len(_entries(exported.read_text())) == 10

    page.goto(f"{site.url}/library/import")
    page.set_input_files("input[name=file]", str(exported))
    page.fill("input[name=new_collection]", "Round trip")
    page.locator(".import-form button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator(".import-summary")).to_contain_text("10 found")
    expect(page.locator(".import-summary")).to_contain_text("0 not found")
    expect(page.locator(".matched-entry")).to_have_count(10)
    page.get_by_role("link", name="Open Round trip").click()
    expect(page.locator("article.card")).to_have_count(10)
    with page.expect_download() as second:
        page.locator(".exports").get_by_role("link", name="BibTeX").click()
    again = tmp_path / "again.bib"
    second.value.save_as(again)
    assert _entries(again.read_text()) == _entries(exported.read_text())

    # A broken file: a clear error on the form, and nothing imported.
    broken = tmp_path / "broken.json"
    broken.write_text('[{"title": ')
    page.goto(f"{site.url}/library/import")
    page.set_input_files("input[name=file]", str(broken))
    page.fill("input[name=new_collection]", "Should not exist")
    page.locator(".import-form button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator(".form-error")).to_contain_text("broken.json: not valid JSON")
    page.goto(f"{site.url}/library")
    expect(page.locator(".collection-list")).not_to_contain_text("Should not exist")
    assert errors == []
    context.close()


def test_save_read_and_follow_without_scripting(site, day_papers, browser):
    context, page, _ = _new_page(browser, script=False)
    browser_sign_up(page, site.url, "plainlibrary")
    page.goto(f"{site.url}/papers/date/{DAY.isoformat()}")
    card = page.locator("article.card").nth(25)
    card.scroll_into_view_if_needed()
    card.locator("button.save-button").click()
    page.wait_for_load_state("load")
    # Back on the same card (#t-<id>), now saved.
    assert re.search(r"#t-\d+$", page.url)
    card = page.locator("article.card").nth(25)
    assert card.locator("button.save-button").get_attribute("aria-pressed") == "true"
    assert page.evaluate("window.scrollY") > 1000
    key = day_papers[25]
    page.goto(f"{site.url}/papers/{key}")
    page.locator("#library-panel .read-button").click()
    page.wait_for_load_state("load")
    expect(page.locator("#library-panel .read-label")).to_have_text("Read")
    page.locator("#library-panel textarea[name=note]").fill("Plain note")
    page.locator("#library-panel .note-form button").click()
    page.wait_for_load_state("load")
    expect(page.locator("#library-panel textarea[name=note]")).to_have_value("Plain note")
    page.goto(f"{site.url}/authors/Edsger Dijkstra")
    page.locator("button.follow-button").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/authors/Edsger%20Dijkstra")
    expect(page.locator("button.follow-button")).to_have_attribute("aria-pressed", "true")
    page.goto(f"{site.url}/library")
    expect(page.locator(".library-entry")).to_have_count(1)
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_library_pages_have_no_serious_accessibility_violations(site, day_papers, browser, scheme):
    from tests.web.test_accessibility import _serious  # axe-core, vendored

    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    browser_sign_up(page, site.url, f"axereader{scheme}")
    key = day_papers[7]
    page.goto(f"{site.url}/papers/{key}")
    page.locator("#library-panel input[name=new_collection]").fill("Axe list")
    page.locator("#library-panel .new-collection-form button").click()
    page.wait_for_load_state("load")
    page.goto(f"{site.url}/papers/{key}")
    page.locator("#library-panel .read-button").click()
    page.wait_for_load_state("load")
    page.goto(f"{site.url}/library")
    collection = page.get_by_role("link", name="Axe list").get_attribute("href")
    found = {}
    for path in ("/library", collection, f"/papers/{key}", "/library/import", "/account",
                 "/authors/Grace Hopper", "/collections", f"/papers/date/{DAY.isoformat()}"):
        page.goto(f"{site.url}{path}")
        found[path] = _serious(page)
    page.screenshot(path=str(ARTIFACTS / f"library-{scheme}.png"), full_page=True)
    assert {path: v for path, v in found.items() if v} == {}
    context.close()
