import math

import numpy as np
import pytest

from dailypapers.search import recommend
from dailypapers.search.recommend import (
    balanced_weights,
    dismiss_penalty,
    fit_logistic,
    normalise,
    profile_scores,
    rank_for_member,
    recency_weights,
    train_member_model,
)


def test_recency_weights_are_zotero_arxiv_dailys_log_decay_normalised():
    raw = [1.0, 1 / (1 + math.log10(2)), 1 / (1 + math.log10(3))]
    assert recency_weights(3) == pytest.approx([r / sum(raw) for r in raw])
    assert recency_weights(1) == pytest.approx([1.0])
    assert len(recency_weights(0)) == 0
    w = recency_weights(50)
    assert w.sum() == pytest.approx(1.0) and all(np.diff(w) < 0)


def test_profile_score_is_the_weighted_cosine_and_nearest_is_the_closest_kept_paper():
    kept = np.array([[1.0, 0.0], [0.0, 1.0]])
    candidates = normalise(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
    w = recency_weights(2)
    scores, nearest = profile_scores(candidates, kept, w)
    assert scores == pytest.approx([w[0], (w[0] + w[1]) / math.sqrt(2), w[1]])
    assert list(nearest) == [0, 0, 1]  # a tie goes to the newer kept paper
    empty, none = profile_scores(candidates, np.zeros((0, 2)), recency_weights(0))
    assert list(empty) == [0, 0, 0] and list(none) == [-1, -1, -1]


def test_nearest_scores_are_the_cosine_to_the_closest_kept_paper():
    kept = np.array([[1.0, 0.0], [0.0, 1.0]])
    candidates = normalise(np.array([[3.0, 1.0], [1.0, 1.0]]))
    assert recommend.nearest_scores(candidates, kept) == pytest.approx([3 / math.sqrt(10), 1 / math.sqrt(2)])
    assert list(recommend.nearest_scores(candidates, np.zeros((0, 2)))) == [0, 0]


def test_dismiss_penalty_takes_the_closest_dismissed_paper_and_never_adds():
    candidates = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    dismissed = np.array([[1.0, 0.0], normalise(np.array([1.0, 1.0]))[0]])
    assert dismiss_penalty(candidates, dismissed, penalty=0.5) == pytest.approx([0.5, 0.5 / math.sqrt(2), 0.0])
    assert list(dismiss_penalty(candidates, np.zeros((0, 2)))) == [0, 0, 0]


def test_balanced_weights_are_sklearns():
    assert list(balanced_weights(np.array([1, 0, 0, 0]))) == pytest.approx([2.0, 2 / 3, 2 / 3, 2 / 3])
    with pytest.raises(ValueError):
        balanced_weights(np.array([1, 1]))


def test_logistic_regression_matches_its_closed_form_on_a_symmetric_problem():
    # x = ±1 with labels 1/0: by symmetry b = 0 and the optimum solves 2(σ(w) - 1) + l2·w = 0,
    # i.e. the gradient of Σ logloss + l2/2·w² vanishes. Newton's answer must satisfy it.
    model = fit_logistic(np.array([[1.0], [-1.0]]), np.array([1, 0]), l2=1.0)
    w = model.weights[0]
    assert model.bias == pytest.approx(0.0, abs=1e-9)
    assert 2 * (1 / (1 + math.exp(-w)) - 1) + w == pytest.approx(0.0, abs=1e-9)
    assert w == pytest.approx(0.67483, abs=1e-5)
    with pytest.raises(ValueError):
        fit_logistic(np.array([[1.0]]), np.array([1]), l2=0)


def test_logistic_gradient_vanishes_with_sample_weights():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] + 0.3 * rng.normal(size=40) > 0).astype(float)
    s = rng.uniform(0.5, 2.0, size=40)
    model = fit_logistic(x, y, s, l2=0.5)
    p = 1 / (1 + np.exp(-model.decision(x)))
    assert x.T @ (s * (p - y)) + 0.5 * model.weights == pytest.approx(np.zeros(3), abs=1e-7)
    assert (s * (p - y)).sum() == pytest.approx(0.0, abs=1e-7)
    assert model.weights[0] > 0


def test_the_member_model_needs_enough_kept_papers_and_some_negatives():
    kept = np.eye(4)[: recommend.MIN_POSITIVES - 1]
    assert train_member_model(kept, np.zeros((0, 4)), -np.eye(4), min_dismissed=0) is None
    kept = np.tile(np.eye(4)[:1], (recommend.MIN_POSITIVES, 1))
    assert train_member_model(kept, np.zeros((0, 4)), np.zeros((0, 4)), min_dismissed=0) is None
    model = train_member_model(kept, np.zeros((0, 4)), np.eye(4)[1:], min_dismissed=0)
    assert model is not None and model.decision(np.eye(4))[0] == max(model.decision(np.eye(4)))
    # the product's default: background papers alone are not enough, the member's own dismissals are
    assert train_member_model(kept, np.zeros((0, 4)), np.eye(4)[1:]) is None
    few = np.tile(np.eye(4)[1:2], (recommend.MIN_DISMISSED - 1, 1))
    assert train_member_model(kept, few, np.eye(4)[1:]) is None
    enough = np.tile(np.eye(4)[1:2], (recommend.MIN_DISMISSED, 1))
    assert train_member_model(kept, enough, np.eye(4)[1:]) is not None


def test_dismissed_papers_weigh_more_than_background_ones():
    kept = np.tile([[1.0, 0.0]], (recommend.MIN_POSITIVES, 1))
    other = normalise(np.array([[1.0, 1.0]]))
    light = train_member_model(kept, np.zeros((0, 2)), np.vstack([other, [[0.0, -1.0]]]), min_dismissed=0)
    heavy = train_member_model(kept, other, np.array([[0.0, -1.0]]), min_dismissed=0)
    assert light is not None and heavy is not None
    assert heavy.decision(other)[0] < light.decision(other)[0]


def test_ranking_sums_z_scored_features_and_explains_each_paper():
    kept = normalise(np.array([[1.0, 0.1, 0.0], [1.0, -0.1, 0.0], [0.9, 0.0, 0.1], [1.0, 0.0, -0.1]]))
    candidates = normalise(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    background = normalise(np.array([[0.0, 1.0, 1.0]]))
    model = recommend.train_member_model(kept, np.zeros((0, 3)), background, min_dismissed=0)
    assert model is not None
    ranked = rank_for_member(candidates, kept, background=background, model=model)
    assert ranked[0].index == 1
    # without bags: the closest kept paper and the classifier, z-scored and weighted
    expected = (recommend.FEATURE_WEIGHTS["nearest"]
                * recommend.zscore(recommend.nearest_scores(candidates, kept), floor=recommend.COSINE_FLOOR)
                + recommend.FEATURE_WEIGHTS["classifier"]
                * recommend.zscore(model.decision(candidates), floor=recommend.CLASSIFIER_FLOOR))
    assert [r.score for r in ranked] == pytest.approx(sorted(expected, reverse=True))
    assert ranked[0].nearest in (0, 1, 2, 3)
    assert rank_for_member(np.zeros((0, 3)), kept) == []


def test_without_kept_papers_the_callers_order_stays_and_dismissals_sink():
    candidates = normalise(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    assert [r.index for r in rank_for_member(candidates, np.zeros((0, 2)))] == [0, 1, 2]
    ranked = rank_for_member(candidates, np.zeros((0, 2)), dismissed=np.array([[1.0, 0.0]]))
    assert [r.index for r in ranked] == [1, 2, 0]
    assert all(r.nearest == -1 for r in ranked)


def test_a_dismissal_moves_the_papers_near_it_down():
    kept = normalise(np.array([[1.0, 1.0, 0.0]]))
    # cosines to the kept paper: A = B = 1/√2 ≈ .707, C = 2/√6 ≈ .816
    candidates = normalise(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]))
    assert [r.index for r in rank_for_member(candidates, kept)] == [2, 0, 1]
    # dismissing A: A loses DISMISS_WEIGHT × .5, C × .5/√3, B nothing
    after = rank_for_member(candidates, kept, dismissed=np.array([[0.0, 1.0, 0.0]]))
    assert [r.index for r in after] == [2, 1, 0]
    before = {r.index: r.score for r in rank_for_member(candidates, kept)}
    moved = {r.index: r.score - before[r.index] for r in after}
    assert moved[0] == pytest.approx(-recommend.DISMISS_WEIGHT * 0.5)
    assert moved[2] == pytest.approx(-recommend.DISMISS_WEIGHT * 0.5 / math.sqrt(3))
    assert moved[1] == 0


def test_a_candidate_sharing_a_kept_papers_words_is_lifted_by_the_lexical_features():
    from dailypapers.search.lexical_profile import BagCache

    bags = BagCache()
    kept_bags = [bags.bag("k", "Gaussian splatting for avatars", "We splat Gaussians onto meshes.")]
    candidate_bags = [bags.bag("a", "Diffusion for video", "A video diffusion model."),
                      bags.bag("b", "Faster splatting", "Gaussian splatting, twice as fast."),
                      bags.bag("c", "Language models reason", "Chains of thought.")]
    # the vectors alone put candidate a first
    kept = normalise(np.array([[1.0, 0.0]]))
    candidates = normalise(np.array([[1.0, 0.1], [0.5, 1.0], [0.0, 1.0]]))
    assert rank_for_member(candidates, kept)[0].index == 0
    ranked = rank_for_member(candidates, kept, candidate_bags=candidate_bags, kept_bags=kept_bags)
    assert ranked[0].index == 1


def test_the_classifier_joins_the_ranking_only_with_enough_dismissals():
    # four kept papers along the first axis, dismissed ones along the second, background along the
    # fourth; candidates a and b tie on every other feature (same cosine to every kept and every
    # dismissed paper) and differ only along axes the classifier learned: the fourth (background,
    # negative weight) against the third (no paper: ~0 weight)
    kept = normalise(np.array([[1.0, 0.05 * i, 0.0, 0.0] for i in range(recommend.MIN_POSITIVES)]))
    background = normalise(np.array([[0.0, 0.0, 0.0, 1.0], [0.1, 0.0, 0.0, 1.0]]))
    candidates = normalise(np.array([[0.6, 0.0, 0.0, 0.8], [0.6, 0.0, 0.8, 0.0], [0.0, 1.0, 0.0, 0.0]]))

    def dismissed(count):
        return normalise(np.array([[0.05 * j, 1.0, 0.0, 0.0] for j in range(count)]))

    few = dismissed(recommend.MIN_DISMISSED - 1)
    assert not recommend.uses_classifier(kept=len(kept), dismissed=len(few))
    without = rank_for_member(candidates, kept, dismissed=few, background=background)
    # no classifier: a and b tie, and the tie keeps the candidates' order
    assert [r.index for r in without][:2] == [0, 1]
    assert without[0].score == without[1].score

    enough = dismissed(recommend.MIN_DISMISSED)
    assert recommend.uses_classifier(kept=len(kept), dismissed=len(enough))
    with_model = rank_for_member(candidates, kept, dismissed=enough, background=background)
    assert [r.index for r in with_model][:2] == [1, 0]
    model = train_member_model(kept, enough, background)
    assert model is not None
    expected = (recommend.FEATURE_WEIGHTS["nearest"]
                * recommend.zscore(recommend.nearest_scores(candidates, kept), floor=recommend.COSINE_FLOOR)
                + recommend.FEATURE_WEIGHTS["classifier"]
                * recommend.zscore(model.decision(candidates), floor=recommend.CLASSIFIER_FLOOR)
                - recommend.DISMISS_WEIGHT * recommend.dismiss_penalty(candidates, enough))
    assert {r.index: r.score for r in with_model} == pytest.approx(dict(enumerate(expected)))
    assert recommend.FEATURE_WEIGHTS["classifier"] > 0


def test_with_bags_the_score_sums_the_three_lexical_features_and_the_closest_kept_paper():
    from dailypapers.search import lexical_profile
    from dailypapers.search.lexical_profile import BagCache

    bags = BagCache()
    kept_bags = [bags.bag("k1", "Gaussian splatting for avatars", "We splat Gaussians onto meshes."),
                 bags.bag("k2", "Avatars from video", "Gaussian avatars learned from monocular video.")]
    candidate_bags = [bags.bag("a", "Diffusion for video", "A video diffusion model."),
                      bags.bag("b", "Faster splatting", "Gaussian splatting, twice as fast."),
                      bags.bag("c", "Language models reason", "Chains of thought.")]
    kept = normalise(np.array([[1.0, 0.0], [0.8, 0.6]]))
    candidates = normalise(np.array([[1.0, 0.1], [0.5, 1.0], [0.0, 1.0]]))
    ranked = rank_for_member(candidates, kept, candidate_bags=candidate_bags, kept_bags=kept_bags)
    w = recommend.FEATURE_WEIGHTS
    best, recent, _ = lexical_profile.features(candidate_bags, kept_bags, recommend.recency_weights(2))
    closest = recommend.nearest_scores(candidates, kept)
    expected = (w["nearest"] * recommend.zscore(closest, floor=recommend.COSINE_FLOOR)
                + w["lexical best"] * recommend.zscore(best, floor=recommend.LEXICAL_FLOOR)
                + w["lexical recent"] * recommend.zscore(recent, floor=recommend.LEXICAL_FLOOR)
                + w["lexical profile"] * recommend.zscore(lexical_profile.whole_profile(candidate_bags, kept_bags),
                                                          floor=recommend.LEXICAL_FLOOR))
    assert w["lexical profile"] > 0
    assert {r.index: r.score for r in ranked} == pytest.approx(dict(enumerate(expected)))
