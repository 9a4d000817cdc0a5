"""Cards get their authors as one JSON list per paper, parsed once per distinct list and kept per
worker keyed by the list's text (services/papers._parsed_authors): the printed order holds past
ten authors, an edit to a paper's authors shows on the next view, and a member's vote shows at
once. Runs on both databases (DAILYPAPERS_TEST_BACKEND)."""

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dailypapers.services import sessions, votes
from dailypapers.services.daily import period_page
from dailypapers.services.papers import AuthorRef, load_cards
from dailypapers.services.periods import containing
from dailypapers.store import Author, PaperAuthor
from dailypapers.web.app import create_app
from dailypapers.web.auth import COOKIE
from tests.factories import make_paper, make_user

DAY = dt.date(2025, 3, 4)
NAMES = [f"Author Number {n}" for n in range(12)]  # positions 0..11: a text sort would put 10 before 2


@pytest.fixture
def papers(db):
    made = {"many": make_paper(db, title="Twelve authors", authors=NAMES, featured_on=DAY),
            "two": make_paper(db, title="Two authors", authors=["Ada Lovelace", "Alan Turing"],
                              featured_on=DAY)}
    db.commit()
    return made


@pytest.fixture
def member(db):
    return make_user(db, username="reader")


@pytest.fixture
def client(settings, database, db, member, papers):
    """The member's browser, on an app that renders every request (no page cache)."""
    uncached = settings.model_copy(update={"page_cache_seconds": 0})
    with TestClient(create_app(uncached, database)) as browser:
        browser.cookies.set(COOKIE, sessions.start_session(db=db, user_id=member.id, days=1))
        db.commit()
        yield browser


def _day(client) -> str:
    response = client.get(f"/papers/date/{DAY.isoformat()}")
    assert response.status_code == 200, response.text[:500]
    return response.text


def _card_of(html: str, key: str) -> str:
    """The HTML of the one card (``<article>``) that links to the paper."""
    (card,) = [part for part in html.split('<article')[1:] if f'href="/papers/{key}"' in part]
    return card


def test_cards_keep_every_author_in_printed_order(db, papers):
    many, two = load_cards(db=db, paper_ids=[papers["many"].id, papers["two"].id])
    assert [author.name for author in many.authors] == NAMES
    assert [author.name for author in two.authors] == ["Ada Lovelace", "Alan Turing"]
    assert all(isinstance(author, AuthorRef) and author.user is None for author in many.authors)
    listed = period_page(db=db, period=containing("day", DAY)).cards
    assert {card.key: card.authors for card in listed} == {many.key: many.authors, two.key: two.authors}


def test_a_paper_without_authors_has_none(db, papers):
    db.execute(PaperAuthor.__table__.delete().where(PaperAuthor.paper_id == papers["two"].id))
    db.commit()
    (card,) = load_cards(db=db, paper_ids=[papers["two"].id])
    assert card.authors == ()


def test_an_edit_to_the_authors_shows_on_the_next_view(client, db, papers):
    first = _card_of(_day(client), papers["two"].key)
    assert "Ada Lovelace" in first and "Alan Turing" in first
    assert first.index("Ada Lovelace") < first.index("Alan Turing")
    # Swap the printed order and rename one author: a different list, so nothing kept applies.
    rows = {link.position: link for link in db.scalars(
        select(PaperAuthor).where(PaperAuthor.paper_id == papers["two"].id))}
    ada, alan = rows[0].author_id, rows[1].author_id
    db.execute(update(PaperAuthor).where(PaperAuthor.paper_id == papers["two"].id, PaperAuthor.position == 0)
               .values(author_id=alan))
    db.execute(update(PaperAuthor).where(PaperAuthor.paper_id == papers["two"].id, PaperAuthor.position == 1)
               .values(author_id=ada, user="ada"))
    db.execute(update(Author).where(Author.id == ada).values(name="Augusta Ada King"))
    db.commit()
    again = _card_of(_day(client), papers["two"].key)
    assert "Ada Lovelace" not in again
    assert again.index("Alan Turing") < again.index("Augusta Ada King")
    (card,) = load_cards(db=db, paper_ids=[papers["two"].id])
    assert card.authors[1] == AuthorRef(ada, "Augusta Ada King", "ada")


def test_a_members_vote_shows_at_once(client, db, member, papers):
    key = papers["many"].key
    before = _card_of(_day(client), key)
    count = int(re.search(r'class="upvote-count">(\d+)<', before).group(1))
    assert 'aria-pressed="false"' in before
    votes.upvote(db=db, user_id=member.id, paper_key=key)
    db.commit()
    after = _card_of(_day(client), key)
    assert int(re.search(r'class="upvote-count">(\d+)<', after).group(1)) == count + 1
    assert 'aria-pressed="true"' in after
    assert [name for name in NAMES[:3] if name in after] == NAMES[:3]  # the kept authors still show
