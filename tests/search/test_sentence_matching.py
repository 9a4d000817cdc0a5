"""Sentence-level matching (issue 15): the split, the alignment, stored sentence vectors and the
similar-papers re-ranking (real bundled model on a handful of papers)."""

import html

import httpx
import numpy as np
import pytest
from sqlalchemy import select, update

from dailypapers.search.alignment import (
    best_match,
    explain,
    fuse_similar,
    similar_scores,
    title_and_sentences,
    transport,
)
from dailypapers.search.embedder import embed_pending
from dailypapers.search.engine import SearchEngine
from dailypapers.search.ranking import Ranked, rerank_similar
from dailypapers.search.sentence_vectors import (
    count_sentence_candidates,
    embed_sentences_pending,
    sentence_vectors_of,
)
from dailypapers.search.sentences import MAX_SENTENCES, paper_items, paper_sentences, split_sentences
from dailypapers.services.explain import explain_similar
from dailypapers.services.search import SearchRequest, search_papers, similar_papers
from dailypapers.store import Paper, SentenceEmbedding
from dailypapers.store.base import utcnow
from tests.factories import make_paper


def test_sentences_split_at_full_stops_but_not_at_abbreviations_initials_or_decimals():
    text = ("We follow Smith et al. and use e.g. BERT with 3.5 times more data. Results improve by 2.1 "
            "points on GLUE! Does it scale? Yes: J. Doe shows it does, cf. Fig. 3 of the appendix.")
    assert split_sentences(text) == [
        "We follow Smith et al. and use e.g. BERT with 3.5 times more data.",
        "Results improve by 2.1 points on GLUE! Does it scale?",  # a short fragment joins the one before
        "Yes: J. Doe shows it does, cf. Fig. 3 of the appendix.",
    ]
    many = " ".join(f"Sentence number {i} says something long enough." for i in range(40))
    assert len(split_sentences(many)) == MAX_SENTENCES
    assert paper_sentences("Only a title", "") == ["Only a title"]
    assert split_sentences("  ") == []


def test_the_alignment_prefers_the_paper_that_says_the_same_things():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(6, 16)).astype(np.float32)
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)
    query, same, other = basis[[0, 1]], basis[[1, 0]], basis[[2, 3, 4]]
    assert transport(query, same) > 0.95 > 0.5 > transport(query, other)
    assert best_match(query, same) > best_match(query, other)
    reasons = explain(query, np.vstack([basis[5], basis[0]]))
    assert reasons[0].sentence == 1 and reasons[0].query_sentence == 0 and reasons[0].similarity > 0.99
    # Sentence alignment can lift a candidate past one that is slightly closer as a whole.
    order = fuse_similar([10, 11, 12], cosine={10: 0.61, 11: 0.60, 12: 0.2},
                         aligned={10: 0.1, 11: 0.9, 12: 0.1}, keyword=[10, 11, 12])
    assert order == [11, 10, 12]


def test_similar_scores_are_the_weighted_z_scores_of_the_four_scores():
    # Evenly spaced scores z-score to -z, 0, +z with z = sqrt(3/2); the keyword rank of 1, 2, 3
    # among 3 is 1, 2/3, 1/3. Weights: cosine, alignment, keyword, title.
    z = 1.5 ** 0.5
    kwargs = {"cosine": {1: 0.9, 2: 0.6, 3: 0.3}, "aligned": {1: 0.3, 2: 0.6, 3: 0.9}, "keyword": [1, 2, 3],
              "title": {1: 0.2, 2: 0.5, 3: 0.8}}
    scores = similar_scores([1, 2, 3], weights=(1.5, 0.75, 0.375, 0.5), **kwargs)
    assert scores.tolist() == pytest.approx([z * 0.625, 0.0, -z * 0.625])
    assert fuse_similar([1, 2, 3], weights=(1.5, 0.75, 0.375, 0.5), **kwargs) == [1, 2, 3]
    # The title alone decides when only it has weight; the default weights give it 0.5.
    assert fuse_similar([1, 2, 3], weights=(0, 0, 0, 1), **kwargs) == [3, 2, 1]
    assert similar_scores([1, 2, 3], weights=(0, 0, 0, 1), **kwargs).tolist() == pytest.approx([-z, 0.0, z])
    # A candidate without a title vector counts as average on that score: here all of them tie.
    no_titles = similar_scores([1, 2, 3], weights=(0, 0, 0, 1), **(kwargs | {"title": {1: 0.7}}))
    assert no_titles.tolist() == [0.0, 0.0, 0.0]
    half = similar_scores([1, 2, 3], weights=(0, 0, 0, 1), **(kwargs | {"title": {1: 0.2, 3: 0.8}}))
    assert half.tolist() == pytest.approx([-z, 0.0, z])  # 2 takes the average, 0.5
    assert fuse_similar([], **kwargs) == []


def test_a_stored_row_is_the_title_then_the_sentences():
    assert paper_items("  A   title ", "First sentence is long enough here. Second one is long enough too.") == [
        "A title", "First sentence is long enough here.", "Second one is long enough too."]
    assert paper_items("", "Only an abstract sentence of some length.") == [
        "", "Only an abstract sentence of some length."]
    assert paper_items("Only a title", "") == ["Only a title", "Only a title"]
    assert paper_items("", "") == []
    rows = np.eye(3, 4, dtype=np.float32)
    title, sentences = title_and_sentences(rows)
    assert title is not None and title.tolist() == [1, 0, 0, 0] and sentences.tolist() == rows[1:].tolist()
    rows[0] = 0  # no title: a zero vector, no title score
    assert title_and_sentences(rows)[0] is None and len(title_and_sentences(rows)[1]) == 2
    single = title_and_sentences(rows[:1] + 1)  # a row of one vector holds no title
    assert single[0] is None and len(single[1]) == 1


PAPERS = [
    ("Sparse attention for long documents",
     "We study long document modelling. Our method keeps only the top-k attention scores per query. "
     "It reduces memory from quadratic to linear in the sequence length."),
    ("Linear-memory transformers",
     "Transformers run out of memory on long inputs. We keep the largest attention weights of each "
     "query and drop the rest. Memory then grows linearly with the length of the sequence."),
    ("Protein folding with graph networks",
     "We predict protein structures from sequences. A graph network refines residue contacts. "
     "Accuracy improves on the CASP benchmark."),
]


def test_embed_stores_sentence_vectors_once_and_again_when_the_abstract_changes(db, settings):
    engine = SearchEngine(settings)
    papers = [make_paper(db, title=t, abstract=a) for t, a in PAPERS]
    assert count_sentence_candidates(db=db, model=engine.model) == 3
    assert embed_sentences_pending(db=db, provider=engine.provider).embedded == 3
    stored = sentence_vectors_of(db=db, model=engine.model, paper_ids=[p.id for p in papers])
    assert [len(stored[p.id]) for p in papers] == [4, 4, 4]  # the title, then 3 sentences
    assert np.allclose(np.linalg.norm(stored[papers[0].id], axis=1), 1.0, atol=1e-2)  # float16 rows
    title, sentences = title_and_sentences(stored[papers[0].id])
    expected = engine.provider.embed_documents([PAPERS[0][0], *split_sentences(PAPERS[0][1])])
    assert title is not None and np.allclose(title, expected[0], atol=2e-3)
    assert np.allclose(sentences, expected[1:], atol=2e-3)
    again = embed_sentences_pending(db=db, provider=engine.provider)
    assert again.embedded == 0 and count_sentence_candidates(db=db, model=engine.model) == 0
    db.execute(update(Paper).where(Paper.id == papers[2].id).values(
        abstract="A different abstract now. It has two sentences of some length.", modified_at=utcnow()))
    db.commit()
    assert embed_sentences_pending(db=db, provider=engine.provider).embedded == 1
    assert len(sentence_vectors_of(db=db, model=engine.model, paper_ids=[papers[2].id])[papers[2].id]) == 3


def test_a_paper_without_a_title_stores_a_zero_title_vector(db, settings):
    engine = SearchEngine(settings)
    paper = make_paper(db, title="A title for now", abstract=PAPERS[1][1])
    db.execute(update(Paper).where(Paper.id == paper.id).values(title="", modified_at=utcnow()))
    db.commit()
    assert embed_sentences_pending(db=db, provider=engine.provider).embedded == 1
    rows = sentence_vectors_of(db=db, model=engine.model, paper_ids=[paper.id])[paper.id]
    assert len(rows) == 4 and not rows[0].any()
    title, sentences = title_and_sentences(rows)
    assert title is None and len(sentences) == 3


def test_similar_papers_are_reranked_by_their_sentences(db, settings):
    engine = SearchEngine(settings)
    papers = [make_paper(db, title=t, abstract=a) for t, a in PAPERS]
    embed_pending(db=db, provider=engine.provider)
    without = [c.id for c in similar_papers(db=db, engine=engine, paper_id=papers[0].id, limit=2)]
    embed_sentences_pending(db=db, provider=engine.provider)
    with_sentences = [c.id for c in similar_papers(db=db, engine=engine, paper_id=papers[0].id, limit=2)]
    assert with_sentences[0] == papers[1].id and sorted(without) == sorted(with_sentences)
    assert db.scalar(select(SentenceEmbedding.count).where(SentenceEmbedding.paper_id == papers[0].id)) == 4
    # The re-ranking only reorders candidates; a query paper without sentences keeps the order.
    ranked = Ranked(ids=[papers[2].id, papers[1].id], scores={}, keyword=[], semantic=[])
    dense = engine.prepare(db)
    vector = dense.vectors_of([papers[0].id])[papers[0].id]
    assert rerank_similar(ranked, vector=vector, dense=dense, sentences={}, query=papers[0].id) == ranked.ids
    sentences = sentence_vectors_of(db=db, model=engine.model, paper_ids=[p.id for p in papers])
    assert rerank_similar(ranked, vector=vector, dense=dense, sentences=sentences,
                          query=papers[0].id) == [papers[1].id, papers[2].id]


def test_the_sentences_that_matched_are_explained_on_the_page_and_in_the_api(db, settings, live_server):
    engine = SearchEngine(settings)
    papers = [make_paper(db, title=t, abstract=a) for t, a in PAPERS]
    embed_pending(db=db, provider=engine.provider)
    embed_sentences_pending(db=db, provider=engine.provider)
    reasons = explain_similar(db=db, engine=engine, paper_id=papers[0].id, other_ids=[papers[1].id])
    best = reasons[papers[1].id][0]
    assert best.sentence in split_sentences(PAPERS[1][1]) and best.query_sentence in split_sentences(PAPERS[0][1])
    # The stored rows start with the titles' vectors; a title is never shown as a matched sentence.
    shown = {text for r in reasons[papers[1].id] for text in (r.sentence, r.query_sentence)}
    assert shown and not shown & {PAPERS[0][0], PAPERS[1][0]}
    assert best.similarity > 0.5
    api = httpx.get(f"{live_server}/api/papers/{papers[0].key}/similar", params={"explain": "true", "limit": 2},
                    timeout=60).json()
    first = api[0]
    assert first["paper"]["id"] == papers[1].key
    assert first["matchedSentences"][0] == {"sentence": best.sentence, "querySentence": best.query_sentence,
                                            "similarity": best.similarity}
    plain = httpx.get(f"{live_server}/api/papers/{papers[0].key}/similar", timeout=60).json()
    assert "matchedSentences" not in plain[0]  # optional: only when asked for
    page = httpx.get(f"{live_server}/papers/{papers[0].key}", timeout=60).text
    assert "Why similar" in page and html.escape(best.sentence, quote=True) in page
    assert httpx.get(f"{live_server}/api/papers/{papers[0].key}/similar", params={"explain": "maybe"},
                     timeout=60).status_code == 422


def test_a_search_hit_says_which_of_its_sentences_is_closest_to_the_query(db, settings):
    engine = SearchEngine(settings)
    papers = [make_paper(db, title=t, abstract=a) for t, a in PAPERS]
    embed_pending(db=db, provider=engine.provider)
    embed_sentences_pending(db=db, provider=engine.provider)
    page = search_papers(db=db, engine=engine, request=SearchRequest(q="folding of proteins predicted from sequence"))
    top = page.hits[0]
    assert top.card.id == papers[2].id
    assert top.reasons[0].sentence == "We predict protein structures from sequences."
    assert top.reasons[0].query_sentence is None and top.reasons[0].similarity >= settings.search_semantic_floor
    keyword_only = search_papers(db=db, engine=engine, request=SearchRequest(q="protein", mode="keyword"))
    assert keyword_only.hits and keyword_only.hits[0].reasons == ()  # no query vector, no claim of meaning
