import datetime as dt

import pytest
from sqlalchemy import select

from dailypapers.services import orgs_admin, submissions
from dailypapers.services.errors import Conflict, Forbidden, Invalid, NotFound
from dailypapers.sources.arxiv_client import ArxivClient
from dailypapers.store import DailyEntry, Paper, Role
from tests.factories import make_paper, make_user
from tests.sources.arxiv_api import recorded_arxiv_api

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def arxiv():
    with recorded_arxiv_api() as server, ArxivClient(base_url=server.url, min_interval=0) as client:
        yield client


def test_submit_by_url_fetches_metadata_and_features_it(db, arxiv):
    user = make_user(db, display_name="Ada L.")
    entry = submissions.submit_paper(db=db, arxiv=arxiv, user=user,
                                     ref="https://arxiv.org/abs/1605.08386v1", day=DAY)
    paper = db.get(Paper, entry.paper_id)
    assert paper.key == "1605.08386" and paper.title == "Heat-bath random walks with Markov bases"
    assert paper.author_names and paper.abstract
    assert (entry.day, entry.submitted_by, entry.submitter_user_id) == (DAY, "Ada L.", user.id)


def test_already_featured_is_refused_with_a_link(db, arxiv):
    make_paper(db, arxiv_id="1605.08386", featured_on=dt.date(2025, 1, 2))
    with pytest.raises(Conflict) as refused:
        submissions.submit_paper(db=db, arxiv=arxiv, user=make_user(db), ref="1605.08386", day=DAY)
    assert refused.value.link == "/papers/1605.08386" and "2025-01-02" in refused.value.message


def test_unknown_and_malformed_ids(db, arxiv):
    user = make_user(db)
    with pytest.raises(NotFound, match="arXiv has no paper"):
        submissions.submit_paper(db=db, arxiv=arxiv, user=user, ref="0000.0000", day=DAY)
    with pytest.raises(Invalid):
        submissions.submit_paper(db=db, arxiv=arxiv, user=user, ref="'; DROP TABLE papers; --", day=DAY)
    assert db.scalar(select(DailyEntry.id)) is None


def test_unreachable_arxiv_changes_nothing_and_curators_can_enter_it_by_hand(db):
    with recorded_arxiv_api() as server, ArxivClient(base_url=server.endpoint("overloaded"),
                                                    min_interval=0) as down:
        member = make_user(db)
        with pytest.raises(submissions.SourceUnavailable, match="not answering right now"):
            submissions.submit_paper(db=db, arxiv=down, user=member, ref="1605.08386", day=DAY)
    assert db.scalar(select(Paper.id)) is None
    with pytest.raises(Forbidden):
        submissions.submit_manual(db=db, user=member, ref="1605.08386", title="T", abstract="",
                                  authors=[], day=DAY)
    curator = make_user(db, role=Role.CURATOR)
    entry = submissions.submit_manual(db=db, user=curator, ref="1605.08386", title=" Heat-bath  walks ",
                                      abstract="A.", authors=["A. One", "", "B. Two"], day=DAY)
    paper = db.get(Paper, entry.paper_id)
    assert paper.title == "Heat-bath walks" and paper.author_names == ["A. One", "B. Two"]


def test_submit_on_behalf_of_an_org_requires_membership(db, arxiv):
    owner, outsider = make_user(db), make_user(db)
    org = orgs_admin.create_org(db=db, user=owner, handle="SakanaAI", name="Sakana AI")
    db.commit()
    with pytest.raises(Forbidden):
        submissions.submit_paper(db=db, arxiv=arxiv, user=outsider, ref="1605.08386",
                                 organization_id=org.id, day=DAY)
    entry = submissions.submit_paper(db=db, arxiv=arxiv, user=owner, ref="1605.08386",
                                     organization_id=org.id, day=DAY)
    assert entry.organization_id == org.id
