"""A paper page's similar papers are kept per paper and catalog version (services/similar.py):
never stale for a member's vote, recomputed on the next view after an edit, an import or a
re-embed. Runs on both databases (DAILYPAPERS_TEST_BACKEND)."""

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from dailypapers.services import sessions, votes
from dailypapers.services.similar import catalog_version
from dailypapers.store import Embedding, Paper, SentenceEmbedding
from dailypapers.store.base import utcnow
from dailypapers.web.app import create_app
from dailypapers.web.auth import COOKIE
from tests.factories import make_paper, make_user


def _age(db, minutes: int) -> None:
    """Stamp every paper ``minutes`` ago: a version older than MARGIN is one the memo keeps."""
    db.execute(update(Paper).values(modified_at=utcnow() - dt.timedelta(minutes=minutes)))
    db.commit()


def _similar_titles(html: str) -> list[str]:
    section = html.split('class="similar-papers', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<li><a href="/papers/[^"]+">([^<]+)</a>', section)


def _similar_upvotes(html: str) -> int:
    section = html.split('class="similar-papers', 1)[1]
    return int(re.search(r"([0-9,]+) upvotes?<", section).group(1).replace(",", ""))


@pytest.fixture
def member(db):
    return make_user(db, username="reader")


@pytest.fixture
def papers(db):
    made = {"paper": make_paper(db, title="Sparse transformers for daily papers", featured_on=dt.date(2025, 2, 3)),
            "other": make_paper(db, title="Sparse transformers again", featured_on=dt.date(2025, 2, 3)),
            "cooking": make_paper(db, title="Slow cooking of beans", abstract="Beans, water, time.",
                                  featured_on=dt.date(2025, 2, 3))}
    db.commit()
    _age(db, 60)
    return made


@pytest.fixture
def client(settings, database, db, member, papers):
    app = create_app(settings.model_copy(update={"page_cache_seconds": 0}), database)
    token = sessions.start_session(db=db, user_id=member.id, days=1)
    db.commit()
    with TestClient(app, cookies={COOKIE: token}) as client:
        yield client


def _page(client, paper) -> str:
    response = client.get(f"/papers/{paper.key}")
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_similar_papers_are_kept_and_a_vote_shows_at_once(client, db, member, papers):
    first = _page(client, papers["paper"])
    assert _similar_titles(first) == ["Sparse transformers again"]
    assert len(client.app.state.similar) == 1  # kept
    count = _similar_upvotes(first)
    votes.upvote(db=db, user_id=member.id, paper_key=papers["other"].key)
    db.commit()
    again = _page(client, papers["paper"])
    assert len(client.app.state.similar) == 1  # the same entry (a vote is not a catalog change)
    # The kept ids, with this request's cards: the vote counts at once.
    assert _similar_upvotes(again) == count + 1


def test_an_edit_changes_similar_papers_on_the_next_view(client, db, papers):
    assert "Slow cooking of beans" not in _similar_titles(_page(client, papers["paper"]))
    db.execute(update(Paper).where(Paper.id == papers["cooking"].id)
               .values(title="Sparse transformers for slow cooking",
                       modified_at=utcnow() - dt.timedelta(minutes=30)))
    db.commit()
    assert "Sparse transformers for slow cooking" in _similar_titles(_page(client, papers["paper"]))
    assert len(client.app.state.similar) == 2  # a new version, a new key


def test_a_new_import_changes_similar_papers_on_the_next_view(client, db, papers):
    assert len(_similar_titles(_page(client, papers["paper"]))) == 1
    make_paper(db, title="Sparse transformers, the sequel", featured_on=dt.date(2025, 2, 4))
    db.commit()
    # Just written: its stamp is newer than MARGIN, so the view computes afresh and keeps nothing.
    assert "Sparse transformers, the sequel" in _similar_titles(_page(client, papers["paper"]))
    assert len(client.app.state.similar) == 1


def test_a_re_embed_or_new_sentence_vectors_are_a_new_version(client, db, papers):
    model = client.app.state.search.model
    before = catalog_version(db=db, engine=client.app.state.search)
    stamp = utcnow() - dt.timedelta(minutes=10)
    db.execute(insert(Embedding).values(paper_id=papers["paper"].id, model=model, content_hash="x", dim=2,
                                        vector=b"\0" * 8, created_at=stamp))
    db.commit()
    embedded = catalog_version(db=db, engine=client.app.state.search)
    assert embedded != before and embedded[1] == stamp
    db.execute(update(Embedding).values(created_at=stamp + dt.timedelta(minutes=1)))  # a re-embed
    db.commit()
    assert catalog_version(db=db, engine=client.app.state.search)[1] == stamp + dt.timedelta(minutes=1)
    db.execute(insert(SentenceEmbedding).values(paper_id=papers["paper"].id, model=model, content_hash="x",
                                                count=1, dim=2, vectors=b"\0" * 4, created_at=stamp))
    db.commit()
    assert catalog_version(db=db, engine=client.app.state.search)[2] == stamp
    # Another model's vectors are not this engine's version.
    db.execute(insert(Embedding).values(paper_id=papers["other"].id, model="another/model", content_hash="x",
                                        dim=2, vector=b"\0" * 8, created_at=utcnow()))
    db.commit()
    assert catalog_version(db=db, engine=client.app.state.search)[1] == stamp + dt.timedelta(minutes=1)
    assert db.scalar(select(Embedding.id).where(Embedding.model == "another/model")) is not None
