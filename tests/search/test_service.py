"""search_papers on small catalogs (no model run: no paper has a vector here)."""

import numpy as np

from dailypapers.search.embedder import store_vectors
from dailypapers.search.engine import SearchEngine
from dailypapers.services.search import SearchRequest, search_papers
from tests.factories import make_paper


def test_without_vectors_hybrid_is_keyword_search_and_semantic_says_why(db, settings):
    paper = make_paper(db, title="Contrastive pretraining", abstract="Image and text pairs.")
    engine = SearchEngine(settings)
    hybrid = search_papers(db=db, engine=engine, request=SearchRequest(q="contrastive"))
    assert [h.card.id for h in hybrid.hits] == [paper.id] and hybrid.notice is None
    semantic = search_papers(db=db, engine=engine, request=SearchRequest(q="contrastive", mode="semantic"))
    assert semantic.hits == [] and "dailypapers embed" in semantic.notice
    off = SearchEngine(settings.model_copy(update={"search_semantic": False}))
    assert "off" in search_papers(db=db, engine=off, request=SearchRequest(q="x", mode="semantic")).notice


def test_pinned_ids_stay_first_under_every_sort(db, settings):
    target = make_paper(db, arxiv_id="2402.00001", title="Attention tricks", abstract="attention", upvotes=0)
    for i in range(5):
        make_paper(db, title=f"More attention {i}", abstract="attention attention", upvotes=10 + i)
    engine = SearchEngine(settings)
    for sort in ("relevance", "upvotes", "newest", "trending"):
        page = search_papers(db=db, engine=engine, request=SearchRequest(q="attention 2402.00001", sort=sort))
        assert page.hits[0].card.id == target.id and page.hits[0].pinned, sort
    by_votes = search_papers(db=db, engine=engine, request=SearchRequest(q="attention 2402.00001", sort="upvotes"))
    assert [h.card.upvotes for h in by_votes.hits[1:]] == [14, 13, 12, 11, 10]


def test_a_model_that_cannot_load_leaves_keyword_search_working(db, settings, tmp_path):
    paper = make_paper(db, title="Contrastive pretraining", abstract="Image and text pairs.")
    store_vectors(db=db, model="/no/such/model", rows=[(paper.id, "h", np.ones(4, np.float32) / 2)])
    db.commit()
    broken = SearchEngine(settings.model_copy(update={"search_embedding_model": "/no/such/model",
                                                       "search_model_cache_dir": tmp_path}))
    page = search_papers(db=db, engine=broken, request=SearchRequest(q="contrastive"))
    assert [h.card.id for h in page.hits] == [paper.id]
    assert broken.embed_query("again") is None  # not retried
