"""Text queries re-ranked by sentence matching (issue 15): the fusion's exact values, the scores a
re-ranked list carries, and the search service using it (real bundled model and database)."""

import math

import numpy as np
import pytest

from dailypapers.search.alignment import QUERY_WEIGHTS, fuse_query
from dailypapers.search.embedder import embed_pending
from dailypapers.search.engine import SearchEngine
from dailypapers.search.query import parse_query
from dailypapers.search.ranking import QUERY_DEPTH, QueryFeatures, Ranked, query_features, rank_query, rerank_query
from dailypapers.search.sentence_vectors import embed_sentences_pending, sentence_vectors_of
from dailypapers.search.vectors import VectorIndex
from dailypapers.services.search import SearchRequest, search_papers
from tests.factories import make_paper
from tests.search.test_sentence_matching import PAPERS as SIMILAR_PAPERS

# Hybrid order 1, 2, 3: rank column 1, 2/3, 1/3 → z = √1.5, 0, -√1.5.
SENTENCE = {1: 0.2, 2: 0.8, 3: 0.5}  # z = -√1.5, √1.5, 0
COSINE = {1: 0.5, 2: 0.5, 3: 0.2}  # z = 1/√2, 1/√2, -√2
TITLE = {1: 0.1, 2: 0.4, 3: 0.7}  # z = -√1.5, 0, √1.5


def test_the_fused_score_is_the_weighted_sum_of_z_scores():
    fused = fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(1.0, 1.0, 0.5, 0.0))
    assert [pid for pid, _ in fused] == [2, 1, 3]
    scores = dict(fused)
    assert scores[1] == pytest.approx(math.sqrt(2) / 4)
    assert scores[2] == pytest.approx(math.sqrt(1.5) + math.sqrt(2) / 4)
    assert scores[3] == pytest.approx(-math.sqrt(1.5) - math.sqrt(2) / 2)


def test_weights_scale_each_score_and_the_rank_alone_keeps_the_hybrid_order():
    hybrid = fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, title=TITLE, weights=(1, 0, 0, 0))
    assert [pid for pid, _ in hybrid] == [1, 2, 3]
    only_sentences = fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(0, 2, 0, 0))
    assert only_sentences == [(2, pytest.approx(2 * math.sqrt(1.5))), (3, pytest.approx(0.0)),
                              (1, pytest.approx(-2 * math.sqrt(1.5)))]


def test_a_missing_score_counts_as_average_and_ties_keep_the_hybrid_order():
    # 3 has no sentence vectors: it gets the mean of the others (0.5), as in the first test.
    assert fuse_query([1, 2, 3], sentence={1: 0.2, 2: 0.8}, cosine=COSINE, weights=(1, 1, 0.5, 0)) == \
        fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(1, 1, 0.5, 0))
    # Every column constant except the rank: hybrid order; all constant: hybrid order, scores 0.
    assert [pid for pid, _ in fuse_query([5, 6], sentence={5: 0.4, 6: 0.4}, cosine={})] == [5, 6]
    assert fuse_query([5, 6], sentence={5: 0.4, 6: 0.4}, cosine={}, weights=(0, 1, 1, 0)) == [(5, 0.0), (6, 0.0)]
    assert fuse_query([], sentence={}, cosine={}) == []
    assert QUERY_WEIGHTS[0] > 0  # the product's fusion keeps the hybrid rank as a signal


def test_a_reranked_list_carries_the_scores_of_the_places_its_papers_now_hold():
    ranked = Ranked(ids=[1, 2, 3, 4], scores={1: 0.04, 2: 0.03, 3: 0.02, 4: 0.01}, keyword=[1, 4], semantic=[2])
    features = QueryFeatures(head=[1, 2, 3], sentence=SENTENCE, cosine=COSINE, title={})
    out = rerank_query(ranked, features, weights=(1.0, 1.0, 0.5, 0.0))
    assert out.ids == [2, 1, 3, 4]
    assert out.scores == {2: 0.04, 1: 0.03, 3: 0.02, 4: 0.01}  # never increasing down the list
    assert (out.keyword, out.semantic) == (ranked.keyword, ranked.semantic)
    # No sentence vector in the head (not embedded yet): the hybrid ranking as it is.
    assert rerank_query(ranked, QueryFeatures(head=[1, 2, 3], sentence={}, cosine=COSINE, title=TITLE)) is ranked


def test_the_title_cosine_is_a_fourth_weighted_z_score():
    fused = fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, title=TITLE, weights=(1.0, 1.0, 0.5, 1.0))
    # 1: √1.5 - √1.5 + √2/4 - √1.5; 2: 0 + √1.5 + √2/4 + 0; 3: -√1.5 + 0 - √2/2 + √1.5
    assert fused == [(2, pytest.approx(math.sqrt(1.5) + math.sqrt(2) / 4)), (3, pytest.approx(-math.sqrt(2) / 2)),
                     (1, pytest.approx(math.sqrt(2) / 4 - math.sqrt(1.5)))]
    assert fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, title=TITLE, weights=(0, 0, 0, 2)) == \
        [(3, pytest.approx(2 * math.sqrt(1.5))), (2, pytest.approx(0.0)), (1, pytest.approx(-2 * math.sqrt(1.5)))]
    # A paper without a title counts as average (2 gets 0.4, as above); no titles at all: weight 0.
    assert fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, title={1: 0.1, 3: 0.7},
                      weights=(1, 1, 0.5, 1)) == [(pid, pytest.approx(score)) for pid, score in fused]
    assert fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(1, 1, 0.5, 3)) == \
        fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(1, 1, 0.5, 0))


def test_query_features_read_the_title_apart_from_the_sentences(tmp_path):
    # Rows as stored: the title's vector (zeros: no title), then the sentences'.
    e = np.eye(4, dtype=np.float32)
    query = np.array([0.6, 0.8, 0.0, 0.0], dtype=np.float32)
    sentences = {1: np.stack([e[0], e[1], e[2]]), 2: np.stack([np.zeros(4, np.float32), e[0], e[3]]),
                 3: np.stack([e[1], e[3]])}
    ranked = Ranked(ids=[1, 2, 3, 4], scores={1: 0.4, 2: 0.3, 3: 0.2, 4: 0.1}, keyword=[], semantic=[1, 2, 3, 4])
    dense = VectorIndex(tmp_path / "vectors", model="m")
    dense.build_from([([1, 2, 4], np.stack([e[2], e[1], e[0]]))], total=3, watermark=None)
    found = query_features(ranked, vector=query, dense=dense, sentences=sentences, depth=3)
    assert found.head == [1, 2, 3]
    assert found.title == {1: pytest.approx(0.6), 3: pytest.approx(0.8)}  # 2 has no title
    # The title is not a sentence: 1's best is e1 (0.8), not its title e0; 3's only sentence is e3.
    assert found.sentence == {1: pytest.approx(0.8), 2: pytest.approx(0.6), 3: pytest.approx(0.0)}
    assert found.cosine == {1: pytest.approx(0.0), 2: pytest.approx(0.8)}


# The three papers of the similar-papers tests, and nine more on long inputs: a head of 10 to re-rank.
PAPERS = [
    *SIMILAR_PAPERS,
    ("Retrieval for question answering",
     "Open-domain question answering retrieves passages first. We train a dense retriever on questions. "
     "Answers improve on Natural Questions and TriviaQA."),
    ("Memory-efficient transformer training",
     "Training a transformer needs memory for activations. We recompute them in the backward pass. "
     "Long inputs then fit on one GPU."),
    ("Recurrent memory for transformers",
     "A transformer reads long inputs segment by segment. Memory tokens carry state between segments. "
     "The cost grows linearly with the input."),
    ("Quadratic attention is not needed",
     "Attention compares every pair of tokens, which is quadratic. Kernel features approximate it "
     "in linear time. Long sequences become cheap."),
    ("Long inputs in vision transformers",
     "High-resolution images give vision transformers long inputs. We pool tokens hierarchically. "
     "Memory use drops on detection benchmarks."),
    ("Compressing the key-value cache",
     "Serving a transformer stores keys and values for every past token. We quantise the cache to "
     "4 bits. Long prompts use a quarter of the memory."),
    ("State space models for long sequences",
     "Structured state space models replace attention with a linear recurrence. They read inputs of "
     "a million tokens without quadratic memory."),
    ("Chunked attention on long documents",
     "We split a long document into chunks and attend within each chunk. A global token links the "
     "chunks. Memory grows with the chunk size, not the document."),
    ("Efficient transformers: a survey",
     "We survey transformers that handle long inputs: sparse, low-rank, kernel and recurrent attention. "
     "We compare their memory and quality."),
]


def test_search_reranks_the_hybrid_head_and_its_hit_scores_follow_the_order(db, settings):
    engine = SearchEngine(settings)
    papers = [make_paper(db, title=t, abstract=a) for t, a in PAPERS]
    embed_pending(db=db, provider=engine.provider)
    embed_sentences_pending(db=db, provider=engine.provider)
    db.commit()
    q = "ways to carry state between segments of a long text"
    page = search_papers(db=db, engine=engine, request=SearchRequest(q=q))
    dense = engine.prepare(db)
    vector = engine.embed_query(q)
    ranked = rank_query(engine, parse_query(q), vector=vector, dense=dense, limit=settings.search_candidates,
                        floor=settings.search_semantic_floor)
    sentences = sentence_vectors_of(db=db, model=engine.model, paper_ids=ranked.ids[:QUERY_DEPTH])
    features = query_features(ranked, vector=vector, dense=dense, sentences=sentences)
    assert set(features.sentence) == set(ranked.ids) == set(features.cosine) == set(features.title)
    expected = rerank_query(ranked, features)
    assert expected.ids != ranked.ids  # the re-rank moves something here, so the page shows which ran
    assert expected.ids[0] == ranked.ids[0] == papers[5].id  # "Recurrent memory for transformers"
    assert [hit.card.id for hit in page.hits] == expected.ids
    assert [hit.score for hit in page.hits] == [expected.scores[pid] for pid in expected.ids]
    assert [hit.score for hit in page.hits] == sorted((hit.score for hit in page.hits), reverse=True)
    # Keyword mode, another sort and the setting turned off: no re-rank.
    settings_off = settings.model_copy(update={"search_sentences": False})
    off = search_papers(db=db, engine=SearchEngine(settings_off), request=SearchRequest(q=q))
    assert [hit.card.id for hit in off.hits] == ranked.ids
    assert [hit.score for hit in off.hits] == [ranked.scores[pid] for pid in ranked.ids]
    keyword = search_papers(db=db, engine=engine, request=SearchRequest(q=q, mode="keyword"))
    assert [hit.card.id for hit in keyword.hits] == rank_query(
        engine, parse_query(q), vector=None, dense=dense, limit=settings.search_candidates,
        floor=settings.search_semantic_floor).ids
