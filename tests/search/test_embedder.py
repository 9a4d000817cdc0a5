"""Embedding with the real bundled model (a handful of papers: ~0.1 s each on 2 cores)."""

import numpy as np
from sqlalchemy import select, update

from dailypapers.search.bundle import load_bundle, write_bundle
from dailypapers.search.embedder import count_candidates, embed_pending
from dailypapers.search.engine import SearchEngine
from dailypapers.services.search import SearchRequest, search_papers
from dailypapers.services.curation import fix_metadata
from dailypapers.store import Embedding, Paper, Role
from dailypapers.store.base import utcnow
from tests.factories import make_paper, make_user

PETS = ("Dogs and cats at home", "A survey of how household pets such as dogs and cats behave.")
PROTEIN = ("Deep learning predicts protein structure",
           "We predict three-dimensional protein structures from amino acid sequences with a neural network.")


def _vectors(db, model):
    return dict(db.execute(select(Embedding.paper_id, Embedding.vector).where(Embedding.model == model)).all())


def _titles(db, engine, q, mode):
    page = search_papers(db=db, engine=engine, request=SearchRequest(q=q, mode=mode, per_page=5))
    return [hit.card.title for hit in page.hits]


def test_a_paper_imported_later_is_found_by_keyword_at_once_and_by_meaning_after_embed(db, settings):
    engine = SearchEngine(settings)
    make_paper(db, title=PETS[0], abstract=PETS[1])
    embed_pending(db=db, provider=engine.provider)
    assert _titles(db, engine, "pets", "keyword") == [PETS[0]]  # the indexes exist now
    make_paper(db, title=PROTEIN[0], abstract=PROTEIN[1])
    # Keyword: at once, no rebuild.
    assert _titles(db, engine, "protein", "keyword") == [PROTEIN[0]]
    # Meaning, with no word in common: only after `embed` has reached it.
    paraphrase = "forecasting the 3D shape of folded molecules of life"
    assert PROTEIN[0] not in _titles(db, engine, paraphrase, "semantic")
    assert embed_pending(db=db, provider=engine.provider).embedded == 1
    assert _titles(db, engine, paraphrase, "semantic")[0] == PROTEIN[0]
    assert _titles(db, engine, paraphrase, "hybrid")[0] == PROTEIN[0]


def test_editing_an_abstract_re_embeds_only_that_paper(db, settings):
    engine = SearchEngine(settings)
    papers = [make_paper(db, title=t, abstract=a) for t, a in (PETS, PROTEIN, ("Graph networks", "On graphs."))]
    assert embed_pending(db=db, provider=engine.provider).embedded == 3
    before = _vectors(db, engine.model)
    curator = make_user(db, role=Role.CURATOR)
    fix_metadata(db=db, user=curator, paper_key=papers[2].key, title="Graph networks",
                 abstract="Message passing neural networks on molecular graphs.")
    # An upvote-like change touches modified_at but not the text: no new vector for it.
    db.execute(update(Paper).where(Paper.id == papers[0].id).values(modified_at=utcnow()))
    db.commit()
    assert count_candidates(db=db, model=engine.model) == 2
    result = embed_pending(db=db, provider=engine.provider)
    assert (result.embedded, result.unchanged) == (1, 1)
    after = _vectors(db, engine.model)
    assert after[papers[0].id] == before[papers[0].id]
    assert after[papers[1].id] == before[papers[1].id]
    assert after[papers[2].id] != before[papers[2].id]
    assert count_candidates(db=db, model=engine.model) == 0
    assert embed_pending(db=db, provider=engine.provider).embedded == 0


def test_embedding_is_resumable_batch_by_batch(db, settings):
    engine = SearchEngine(settings)
    for i in range(5):
        make_paper(db, title=f"Paper {i} on retrieval", abstract="Dense retrieval with bi-encoders.")
    first = embed_pending(db=db, provider=engine.provider, batch_size=2, limit=3)
    assert first.embedded == 3  # as if interrupted after two batches: those are committed
    assert len(_vectors(db, engine.model)) == 3
    assert embed_pending(db=db, provider=engine.provider, batch_size=2).embedded == 2


def test_bundled_vectors_are_used_only_for_the_same_text(db, settings, tmp_path):
    engine = SearchEngine(settings)
    paper = make_paper(db, title=PETS[0], abstract=PETS[1])
    embed_pending(db=db, provider=engine.provider)
    assert write_bundle(db=db, model=engine.model, folder=tmp_path) == 1
    vectors, title_keys = load_bundle(engine.model, tmp_path)
    assert title_keys == [paper.title_key]
    stored = np.frombuffer(_vectors(db, engine.model)[paper.id], dtype="<f4")
    np.testing.assert_array_equal(next(iter(vectors.values())), stored)

    db.execute(Embedding.__table__.delete())
    db.commit()
    again = embed_pending(db=db, provider=engine.provider, bundled=vectors)
    assert (again.reused, again.embedded) == (1, 0)


def test_the_shipped_sample_vectors_match_the_model():
    """The bundle in the package was made by `dailypapers embed --export-bundle` with this model."""
    vectors, title_keys = load_bundle("sentence-transformers/all-MiniLM-L6-v2")
    assert len(vectors) == len(title_keys) >= 180
    norms = np.linalg.norm(np.stack(list(vectors.values())), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
