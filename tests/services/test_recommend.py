""""For you" on the test's real database (SQLite or PostgreSQL): candidates, reasons, cold start,
and "not interested" moving the ranking. Vectors are written by hand (4 dimensions, one per
topic), so every expected order follows from cosines that can be worked out on paper."""

import datetime as dt

import numpy as np
import pytest

from dailypapers.search import recommend as recommend_maths
from dailypapers.search.embedder import store_vectors
from dailypapers.services import follows, library, recommend, votes
from dailypapers.services.errors import NotFound
from tests.factories import make_paper, make_user

DAY = dt.date(2025, 3, 10)
MODEL = recommend.DEFAULT_MODEL


def paper(db, vector, *, day=DAY, **overrides):
    p = make_paper(db, featured_on=day, published_at=dt.datetime.combine(day, dt.time(9)), **overrides)
    store_vectors(db=db, model=MODEL, rows=[(p.id, "h", np.asarray(vector, dtype=np.float32))])
    db.commit()
    return p


def keys(result):
    return [item.card.key for item in result.items]


@pytest.fixture
def catalog(db):
    kept = paper(db, [1, 0, 0, 0], day=DAY - dt.timedelta(days=30), title="Sparse attention kept")
    near = paper(db, [0.9, 0.1, 0, 0], title="Near the kept paper", upvotes=1)
    close = paper(db, [0.8, 0.3, 0, 0], title="Close to near", upvotes=2)
    far = paper(db, [0, 0, 1, 0], title="Far away", upvotes=50)
    other = paper(db, [0.2, 0.9, 0.2, 0], day=DAY - dt.timedelta(days=3), title="Older, some of it")
    unfeatured = make_paper(db, featured_on=None, published_at=dt.datetime(2025, 3, 9, 8), title="Synced only",
                            arxiv_id="2503.99999")
    store_vectors(db=db, model=MODEL, rows=[(unfeatured.id, "h", np.asarray([0.7, 0, 0, 0.3], dtype=np.float32))])
    db.commit()
    old = paper(db, [1, 0, 0, 0], day=DAY - dt.timedelta(days=40), title="Too old to be a candidate")
    db.commit()
    return {"kept": kept, "near": near, "close": close, "far": far, "other": other,
            "unfeatured": unfeatured, "old": old}


def test_ranked_by_what_the_member_kept_with_the_reason(db, catalog):
    ada = make_user(db)
    votes.upvote(db=db, user_id=ada.id, paper_key=catalog["kept"].key)
    db.commit()
    result = recommend.for_you(db=db, user_id=ada.id, day=DAY)
    assert result.day == DAY and result.kept == 1 and not result.cold
    order = keys(result)
    # cosines to the kept paper: near .994, close .936, unfeatured .919 (synced, never featured),
    # other .21, far 0; the kept and too-old papers are not candidates
    assert order == [catalog[k].key for k in ("near", "close", "unfeatured", "other", "far")]
    first = result.items[0].reason
    assert (first.kind, first.paper_key, first.paper_title) == ("library", catalog["kept"].key,
                                                               "Sparse attention kept")


def test_not_interested_moves_the_ranking(db, catalog):
    ada = make_user(db)
    votes.upvote(db=db, user_id=ada.id, paper_key=catalog["kept"].key)
    db.commit()
    before = keys(recommend.for_you(db=db, user_id=ada.id, day=DAY))
    recommend.dismiss(db=db, user_id=ada.id, paper_key=catalog["near"].key)
    recommend.dismiss(db=db, user_id=ada.id, paper_key=catalog["near"].key)  # twice: one row
    db.commit()
    after = recommend.for_you(db=db, user_id=ada.id, day=DAY)
    assert after.dismissed == 1
    assert catalog["near"].key not in keys(after)
    # "close" (cosine .95 to the dismissed paper) loses .5 × .95 of its profile score and falls
    # below the synced paper (cosine .69 to it: it loses less): second before, behind it after.
    assert before.index(catalog["close"].key) == 1
    assert keys(after) == [catalog[k].key for k in ("unfeatured", "close", "other", "far")]
    recommend.undismiss(db=db, user_id=ada.id, paper_key=catalog["near"].key)
    db.commit()
    assert keys(recommend.for_you(db=db, user_id=ada.id, day=DAY)) == before
    with pytest.raises(NotFound):
        recommend.dismiss(db=db, user_id=ada.id, paper_key="2599.00000")


def test_saved_papers_count_and_without_dismissals_there_is_no_classifier(db, catalog):
    ada = make_user(db)
    extra = [paper(db, [1, 0.05 * i, 0, 0], day=DAY - dt.timedelta(days=20 + i)) for i in range(4)]
    for p in extra:
        library.save_paper(db=db, user_id=ada.id, paper_key=p.key)
    db.commit()
    result = recommend.for_you(db=db, user_id=ada.id, day=DAY)
    # enough kept papers, but background papers alone are no negatives (search.recommend.MIN_DISMISSED)
    assert result.kept == 4 and result.dismissed == 0
    assert not result.personalised_model
    assert keys(result)[0] == catalog["near"].key
    assert keys(result)[-1] == catalog["far"].key


def test_the_classifier_joins_with_enough_kept_and_dismissed_papers(db):
    """Two candidates tie on every feature but the classifier's: the same text, the same cosine to
    every kept and every dismissed paper. They differ along the axis of the background papers (the
    classifier's negatives: "toward" leans there) and along an axis no paper has ("aside"). Without
    the classifier the tie keeps the candidates' order (featured the same day: by id, "toward"
    first); with it, "aside" comes first."""
    ada = make_user(db)
    for i in range(recommend_maths.MIN_POSITIVES):
        kept = paper(db, [1, 0.05 * i, 0, 0], day=DAY - dt.timedelta(days=20 + i), title=f"Kept {i}")
        library.save_paper(db=db, user_id=ada.id, paper_key=kept.key)
        db.commit()
    for i in range(3):  # the classifier's background: featured before the candidates' 14 days
        paper(db, [0.1 * i, 0, 0, 1], day=DAY - dt.timedelta(days=30), title=f"Background {i}")
    text = {"title": "Twin candidate", "abstract": "The same words for both twins."}
    toward = paper(db, [0.6, 0, 0, 0.8], **text)
    aside = paper(db, [0.6, 0, 0.8, 0], **text)
    assert toward.id < aside.id
    dismissed = [paper(db, [0.05 * j, 1, 0, 0], day=DAY - dt.timedelta(days=25), title=f"Dismissed {j}")
                 for j in range(recommend_maths.MIN_DISMISSED)]
    for p in dismissed[:-1]:
        recommend.dismiss(db=db, user_id=ada.id, paper_key=p.key)
    db.commit()

    few = recommend.for_you(db=db, user_id=ada.id, day=DAY)
    assert few.kept == 4 and few.dismissed == recommend_maths.MIN_DISMISSED - 1
    assert not few.personalised_model
    assert keys(few) == [toward.key, aside.key]

    recommend.dismiss(db=db, user_id=ada.id, paper_key=dismissed[-1].key)
    db.commit()
    enough = recommend.for_you(db=db, user_id=ada.id, day=DAY)
    assert enough.dismissed == recommend_maths.MIN_DISMISSED and enough.personalised_model
    assert keys(enough) == [aside.key, toward.key]


def test_cold_start_follows_first_then_popular_never_empty(db, catalog):
    ada = make_user(db)
    result = recommend.for_you(db=db, user_id=ada.id, day=DAY)
    assert result.cold and len(result.items) == 5
    assert keys(result)[0] == catalog["far"].key  # the most upvoted
    assert result.items[0].reason.kind == "popular"
    special = paper(db, [0, 0, 0, 1], title="By someone followed", authors=["Grace Hopper"], upvotes=0)
    follows.follow(db=db, user_id=ada.id, kind="author", target="Grace Hopper")
    db.commit()
    result = recommend.for_you(db=db, user_id=ada.id, day=DAY)
    assert keys(result)[0] == special.key and result.follows == 1
    assert result.items[0].reason.text == "New from Grace Hopper, whom you follow"


def test_an_empty_catalog_and_limits(db):
    ada = make_user(db)
    result = recommend.for_you(db=db, user_id=ada.id)
    assert result.items == [] and result.day is None
    for i in range(3):
        paper(db, [1, i, 0, 0])
    assert len(recommend.for_you(db=db, user_id=ada.id, limit=2).items) == 2
    assert len(recommend.for_you(db=db, user_id=ada.id, limit=0).items) == 1
    assert recommend.for_you(db=db, user_id=ada.id).day == DAY
