"""Text queries re-ranked by sentence matching (issue 15): the fusion's exact values and the scores
a re-ranked list carries."""

import math

import pytest

from dailypapers.search.alignment import QUERY_WEIGHTS, fuse_query
from dailypapers.search.ranking import QueryFeatures, Ranked, rerank_query

# Hybrid order 1, 2, 3: rank column 1, 2/3, 1/3 → z = √1.5, 0, -√1.5.
SENTENCE = {1: 0.2, 2: 0.8, 3: 0.5}  # z = -√1.5, √1.5, 0
COSINE = {1: 0.5, 2: 0.5, 3: 0.2}  # z = 1/√2, 1/√2, -√2


def test_the_fused_score_is_the_weighted_sum_of_z_scores():
    fused = fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(1.0, 1.0, 0.5))
    assert [pid for pid, _ in fused] == [2, 1, 3]
    scores = dict(fused)
    assert scores[1] == pytest.approx(math.sqrt(2) / 4)
    assert scores[2] == pytest.approx(math.sqrt(1.5) + math.sqrt(2) / 4)
    assert scores[3] == pytest.approx(-math.sqrt(1.5) - math.sqrt(2) / 2)


def test_weights_scale_each_score_and_the_rank_alone_keeps_the_hybrid_order():
    assert [pid for pid, _ in fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(1, 0, 0))] == [1, 2, 3]
    only_sentences = fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(0, 2, 0))
    assert only_sentences == [(2, pytest.approx(2 * math.sqrt(1.5))), (3, pytest.approx(0.0)),
                              (1, pytest.approx(-2 * math.sqrt(1.5)))]


def test_a_missing_score_counts_as_average_and_ties_keep_the_hybrid_order():
    # 3 has no sentence vectors: it gets the mean of the others (0.5), as in the first test.
    assert fuse_query([1, 2, 3], sentence={1: 0.2, 2: 0.8}, cosine=COSINE, weights=(1, 1, 0.5)) == \
        fuse_query([1, 2, 3], sentence=SENTENCE, cosine=COSINE, weights=(1, 1, 0.5))
    # Every column constant except the rank: hybrid order; all constant: hybrid order, scores 0.
    assert [pid for pid, _ in fuse_query([5, 6], sentence={5: 0.4, 6: 0.4}, cosine={})] == [5, 6]
    assert fuse_query([5, 6], sentence={5: 0.4, 6: 0.4}, cosine={}, weights=(0, 1, 1)) == [(5, 0.0), (6, 0.0)]
    assert fuse_query([], sentence={}, cosine={}) == []
    assert QUERY_WEIGHTS[0] > 0  # the product's fusion keeps the hybrid rank as a signal


def test_a_reranked_list_carries_the_scores_of_the_places_its_papers_now_hold():
    ranked = Ranked(ids=[1, 2, 3, 4], scores={1: 0.04, 2: 0.03, 3: 0.02, 4: 0.01}, keyword=[1, 4], semantic=[2])
    features = QueryFeatures(head=[1, 2, 3], sentence=SENTENCE, cosine=COSINE)
    out = rerank_query(ranked, features, weights=(1.0, 1.0, 0.5))
    assert out.ids == [2, 1, 3, 4]
    assert out.scores == {2: 0.04, 1: 0.03, 3: 0.02, 4: 0.01}  # never increasing down the list
    assert (out.keyword, out.semantic) == (ranked.keyword, ranked.semantic)
    # No sentence vector in the head (not embedded yet): the hybrid ranking as it is.
    assert rerank_query(ranked, QueryFeatures(head=[1, 2, 3], sentence={}, cosine=COSINE)) is ranked
