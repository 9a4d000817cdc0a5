import datetime as dt

import pytest
from sqlalchemy import func, select

from dailypapers.services import comments, curation, orgs_admin, votes
from dailypapers.services.errors import Conflict, Forbidden, Invalid
from dailypapers.store import Comment, DailyEntry, Paper, Role, Upvote
from tests.factories import make_paper, make_user


def test_feature_move_and_unfeature(db):
    curator, member = make_user(db, role=Role.CURATOR), make_user(db)
    paper = make_paper(db, featured_on=None)
    with pytest.raises(Forbidden):
        curation.feature(db=db, user=member, paper_key=paper.key, day=dt.date(2026, 1, 5))
    for day in (dt.date(2026, 1, 5), dt.date(2026, 1, 6)):
        assert curation.feature(db=db, user=curator, paper_key=paper.key, day=day).day == day
    curation.unfeature(db=db, user=curator, paper_key=paper.key)
    assert db.scalar(select(DailyEntry.id).where(DailyEntry.paper_id == paper.id)) is None


def test_fix_metadata_replaces_title_authors_and_links(db):
    curator = make_user(db, role=Role.CURATOR)
    paper = make_paper(db)
    fixed = curation.fix_metadata(db=db, user=curator, paper_key=paper.key, title="Better  title",
                                  abstract="New.", authors=["Grace Hopper"],
                                  github_repo="https://github.com/a/b")
    assert (fixed.title, fixed.title_key, fixed.author_names, fixed.github_repo) == (
        "Better title", "better title", ["Grace Hopper"], "https://github.com/a/b")
    with pytest.raises(Invalid):
        curation.fix_metadata(db=db, user=curator, paper_key=paper.key, title="t", abstract="",
                              github_repo="javascript:alert(1)")


def test_merge_seed_card_into_arxiv_record_moves_everything(db):
    curator, ada, bob = make_user(db, role=Role.CURATOR), make_user(db), make_user(db)
    seed = make_paper(db, arxiv_id=None, key="seed-abc", title="Gated Attention", upvotes=77,
                      featured_on=dt.date(2025, 11, 20))
    record = make_paper(db, title="Gated Attention for LLMs", featured_on=None, upvotes=0)
    for user in (ada, bob):
        votes.upvote(db=db, user_id=user.id, paper_key=seed.key)
    votes.upvote(db=db, user_id=ada.id, paper_key=record.key)  # ada voted both: counts once
    comments.add_comment(db=db, user_id=bob.id, paper_key=seed.key, body="nice")
    merged = curation.merge(db=db, user=curator, keep_key=record.key, drop_key=seed.key)
    assert merged.id == record.id and merged.key == record.arxiv_id
    assert db.scalar(select(func.count()).select_from(Paper)) == 1
    assert db.scalar(select(func.count()).select_from(Upvote).where(Upvote.paper_id == record.id)) == 2
    assert merged.upvotes == 77 + 2 and merged.num_comments == 1
    assert db.scalar(select(Comment.paper_id)) == record.id
    assert db.scalar(select(DailyEntry.day).where(DailyEntry.paper_id == record.id)) == dt.date(2025, 11, 20)


def test_merge_refuses_two_arxiv_papers(db):
    curator = make_user(db, role=Role.CURATOR)
    a, b = make_paper(db), make_paper(db)
    with pytest.raises(Invalid):
        curation.merge(db=db, user=curator, keep_key=a.key, drop_key=b.key)


def test_org_membership_management(db):
    owner, ada, stranger = make_user(db), make_user(db, username="ada"), make_user(db)
    org = orgs_admin.create_org(db=db, user=owner, handle="SakanaAI", name="Sakana AI")
    with pytest.raises(Conflict):
        orgs_admin.create_org(db=db, user=ada, handle="sakanaai", name="copy")
    with pytest.raises(Forbidden):
        orgs_admin.add_member(db=db, actor=stranger, handle="SakanaAI", username="ada")
    orgs_admin.add_member(db=db, actor=owner, handle="SakanaAI", username="ada")
    assert [o.handle for o in orgs_admin.orgs_of(db=db, user_id=ada.id)] == ["SakanaAI"]
    with pytest.raises(Invalid, match="at least one admin"):
        orgs_admin.remove_member(db=db, actor=owner, handle="SakanaAI", username=owner.username)
    orgs_admin.remove_member(db=db, actor=owner, handle="SakanaAI", username="ada")
    assert orgs_admin.role_in(db=db, org_id=org.id, user_id=ada.id) is None
    with pytest.raises(Invalid):
        orgs_admin.create_org(db=db, user=ada, handle="<script>", name="x")
