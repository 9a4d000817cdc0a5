import datetime as dt

import pytest

from dailypapers.services import papers
from tests.factories import make_paper


def test_get_card_by_any_form_of_the_arxiv_id(db):
    paper = make_paper(db, arxiv_id="2501.00042", authors=["B. Author", "A. Author"],
                       organization=("SakanaAI", "Sakana AI"), submitted_by="Ada",
                       github_repo="https://github.com/x/y", num_comments=3, upvotes=12)
    for form in ("2501.00042", "2501.00042v3", "arXiv:2501.00042", " 2501.00042 "):
        card = papers.get_card(db=db, paper_id=form)
        assert card is not None and card.id == paper.id, form
    assert [a.name for a in card.authors] == ["B. Author", "A. Author"]  # printed order kept
    assert card.organization.handle == "SakanaAI" and card.organization.name == "Sakana AI"
    assert (card.upvotes, card.num_comments, card.submitted_by) == (12, 3, "Ada")
    assert card.pdf_url == "https://arxiv.org/pdf/2501.00042"
    assert papers.get_card(db=db, paper_id="2501.99999") is None


def test_load_cards_keeps_the_callers_order(db):
    a, b, c = (make_paper(db) for _ in range(3))
    cards = papers.load_cards(db=db, paper_ids=[c.id, a.id, 10_000, b.id, a.id])
    assert [card.id for card in cards] == [c.id, a.id, b.id]


def test_list_cards_walks_every_paper_once_newest_first(db):
    made = [make_paper(db, published_at=dt.datetime(2025, 1, 1 + n % 4)) for n in range(7)]
    undated = make_paper(db, published_at=None)
    seen, cursor = [], None
    while True:
        page, cursor = papers.list_cards(db=db, cursor=cursor, limit=3)
        seen += page
        if cursor is None:
            break
    assert sorted(c.id for c in seen) == sorted([p.id for p in made] + [undated.id])
    dates = [c.published_at for c in seen if c.published_at]
    assert dates == sorted(dates, reverse=True)
    assert seen[-1].id == undated.id


@pytest.mark.parametrize("cursor", ["nonsense", "!!", "MjAyNXxhYmM"])
def test_list_cards_rejects_foreign_cursors(db, cursor):
    with pytest.raises(papers.CursorError):
        papers.list_cards(db=db, cursor=cursor, limit=3)
