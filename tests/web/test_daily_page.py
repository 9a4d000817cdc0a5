"""The seed day re-renders: after importing the three seed pages, each day's page shows their cards
with the seeds' author counts, organizations, published dates and upvotes."""

import html
import re

from fastapi.testclient import TestClient

from dailypapers.services.imports import import_seeds
from dailypapers.sources.seeds import parse_seed_page
from dailypapers.web.app import create_app
from tests.conftest import SEEDS


def _card(page: str, title: str) -> str:
    start = page.index(f">{title}</a>")
    start = page.rindex('<article class="card"', 0, start)
    return page[start:page.index("</article>", start)]


def _cards_by_title(page: str) -> dict[str, tuple[str, str]]:
    """Title (as shown, unescaped) → (card HTML, card text)."""
    out = {}
    for chunk in page.split('<article class="card"')[1:]:
        card = chunk[:chunk.index("</article>")]
        title = re.search(r'<h3 class="card-title"[^>]*>.*?<a [^>]*>(.*?)</a>', card, re.S).group(1)
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", card)).split())
        out[html.unescape(re.sub(r"<[^>]+>", "", title))] = (card, text)
    return out


def test_seed_day_rerenders_with_seed_fields(settings, database, db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    client = TestClient(create_app(settings, database))
    home = client.get("/", follow_redirects=False)
    # Seed cards are featured (as estimates) on their own dates, not on the pages' header days.
    assert home.headers["location"] == "/papers/date/2025-12-02"
    assert client.get("/papers/date/2025-11-20").text.count('class="card"') == 0
    page = client.get("/papers/date/2025-05-10").text
    assert "Get trending papers in your email inbox!" in page
    card = _card(page, "Gated Attention for Large Language Models: Non-linearity, Sparsity, and Attention-Sink-Free")
    assert "13 authors" in card and "•" not in card and "May 10, 2025" in card
    ctm = client.get("/papers/date/2025-05-08").text
    card = _card(ctm, "Continuous Thought Machines")
    text = re.sub(r"<[^>]+>", "", card)
    assert re.search(r"SakanaAI\s+Sakana AI", text)
    assert 'href="/orgs/SakanaAI"' in card and "May 8, 2025" in card


def test_every_seed_card_shows_its_seed_fields(settings, database, db):
    """Each seed card's author count or organization, date and upvotes appear on its day's page."""
    import_seeds(db=db, paths=SEEDS, year=2025)
    client = TestClient(create_app(settings, database))
    pages: dict[str, dict[str, tuple[str, str]]] = {}
    checked = 0
    last_day: dict[str, str] = {}
    records = []
    for path in SEEDS:
        got, _ = parse_seed_page(path.read_text(encoding="utf-8"), year=2025)
        for record in got:
            if record.featured_on is None:
                continue  # a card without a date is a catalog paper, on no day page
            last_day[record.title] = record.featured_on.isoformat()  # the later import wins
            records.append(record)
    for record in records:
        day = last_day[record.title]
        if day != record.featured_on.isoformat():
            continue
        if day not in pages:
            pages[day] = _cards_by_title(client.get(f"/papers/date/{day}").text)
        card, text = pages[day][record.title]
        if record.num_authors:
            assert f"{record.num_authors} author" in text and "•" not in text
        if record.organization:
            assert f"{record.organization.handle} {record.organization.name}" in text
        if record.published_at:
            assert record.published_at.strftime("%b %-d, %Y") in text
        assert f'aria-label="{record.upvotes or 0} upvote' in card
        checked += 1
    assert checked >= 177
