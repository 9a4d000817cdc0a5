import pytest

from dailypapers.search.fusion import reciprocal_rank_fusion


def test_scores_are_the_weighted_sum_of_reciprocal_ranks():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)


def test_order_follows_scores_and_ties_go_to_the_best_single_rank():
    # a: 1/61 + 1/62, c: 1/63 + 1/61, b: 1/62 → a before c before b.
    assert [item for item, _ in reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]])] == ["a", "c", "b"]
    # x and y both score 1/61: x came first in the first list that named either.
    assert [item for item, _ in reciprocal_rank_fusion([["x"], ["y"]])] == ["x", "y"]


def test_weights_scale_each_list():
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], k=1, weights=[2.0, 0.5]))
    assert fused == {"a": pytest.approx(1.0), "b": pytest.approx(0.25)}


def test_a_repeated_item_counts_once_at_its_best_rank():
    fused = dict(reciprocal_rank_fusion([["a", "a", "b"]], k=10))
    assert fused == {"a": pytest.approx(1 / 11), "b": pytest.approx(1 / 13)}


def test_empty_lists_and_bad_arguments():
    assert reciprocal_rank_fusion([[], []]) == []
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], k=0)
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])
