import pytest
from sqlalchemy import func, select

from dailypapers.services import votes
from dailypapers.services.errors import NotFound
from dailypapers.store import Paper, Upvote
from tests.factories import make_paper, make_user


def test_upvote_once_counts_on_top_of_imported_votes(db):
    paper = make_paper(db, upvotes=5)
    ada, bob = make_user(db), make_user(db)
    assert votes.upvote(db=db, user_id=ada.id, paper_key=paper.key) == 6
    assert votes.upvote(db=db, user_id=ada.id, paper_key=paper.key) == 6  # no double vote
    assert votes.upvote(db=db, user_id=bob.id, paper_key=paper.key) == 7
    assert votes.unvote(db=db, user_id=ada.id, paper_key=paper.key) == 6
    assert votes.unvote(db=db, user_id=ada.id, paper_key=paper.key) == 6  # no-op
    assert db.scalar(select(func.count()).select_from(Upvote)) == 1
    db.expire_all()
    assert db.get(Paper, paper.id).imported_upvotes == 5


def test_viewer_votes_for_a_page_in_one_query(db):
    papers = [make_paper(db) for _ in range(4)]
    user = make_user(db)
    for p in papers[:2]:
        votes.upvote(db=db, user_id=user.id, paper_key=p.key)
    ids = [p.id for p in papers]
    assert votes.upvoted_among(db=db, user_id=user.id, paper_ids=ids) == {papers[0].id, papers[1].id}
    assert votes.upvoted_by(db=db, user_id=user.id) == {papers[0].id, papers[1].id}


def test_unknown_paper_is_not_found(db):
    with pytest.raises(NotFound):
        votes.upvote(db=db, user_id=make_user(db).id, paper_key="9999.99999")
