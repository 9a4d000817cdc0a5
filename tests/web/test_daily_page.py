import re

from fastapi.testclient import TestClient

from dailypapers.services.imports import import_seeds
from dailypapers.web.app import create_app
from tests.conftest import SEEDS


def test_seed_day_rerenders_with_seed_fields(settings, database, db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    client = TestClient(create_app(settings, database))
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/papers/date/2025-12-10"
    page = client.get("/papers/date/2025-11-20").text
    # 67 cards on the Nov 20 page; one of them is also on the Oct 29 page, and a paper is featured
    # on one day only: the later import (Oct 29, the second file) wins.
    assert page.count('class="card"') == 66
    assert client.get("/papers/date/2025-10-29").text.count('class="card"') == 73
    assert "Get trending papers in your email inbox!" in page
    card = page[page.index("Gated Attention for Large Language Models"):]
    card = card[: card.index("</article>")]
    assert "• 13 authors" in card and "May 10, 2025" in card
    ctm = client.get("/papers/date/2025-12-10").text
    assert re.search(r"SakanaAI</a>\s*Sakana AI", ctm)
