import math

import numpy as np
import pytest

from dailypapers.search import lexical_profile
from dailypapers.search.analysis import Analyzers
from dailypapers.search.lexical_profile import BagCache, bag, features, scores, whole_profile


def test_a_bag_counts_stemmed_terms_titles_twice_and_drops_stop_words_and_numbers():
    terms = bag(Analyzers(), "Gated Networks", "The gates of a network: 95.3 on 2 benchmarks.")
    terms.pop("benchmark")
    assert terms == {"gate": lexical_profile.TITLE_WEIGHT + 1, "network": lexical_profile.TITLE_WEIGHT + 1}


def test_each_kept_paper_is_its_own_query_scaled_to_its_score_against_itself():
    analyzers = Analyzers()
    kept = [bag(analyzers, "Splatting avatars", "Gaussian splatting"), bag(analyzers, "Protein folding", "")]
    candidates = [bag(analyzers, "Gaussian splatting", "fast splatting"), bag(analyzers, "Folding proteins", ""),
                  bag(analyzers, "Video diffusion", ""), bag(analyzers, "Splatting avatars", "Gaussian splatting")]
    matrix = scores(candidates, kept)
    assert matrix.shape == (2, 4)
    assert matrix[0, 3] == pytest.approx(1.0)  # the kept paper's own text
    assert matrix[1, 1] == pytest.approx(1.0)  # the same terms, stemmed alike
    assert 0 < matrix[0, 0] < 1 and matrix[1, 0] == 0
    assert matrix[:, 2] == pytest.approx([0.0, 0.0])
    best, recent, whole = features(candidates, kept, np.array([0.75, 0.25]))
    assert best == pytest.approx(matrix.max(axis=0))
    assert recent == pytest.approx(0.75 * matrix[0] + 0.25 * matrix[1])
    assert whole == pytest.approx(whole_profile(candidates, kept))
    assert [list(f) for f in features(candidates, [], np.zeros(0))] == [[0] * 4, [0] * 4, [0] * 4]
    assert scores([], kept).shape == (2, 0)


def test_the_cache_tokenises_a_key_once_and_drops_the_least_recently_used():
    cache = BagCache(size=2)
    first = cache.bag(1, "Gaussian splatting", "")
    assert cache.bag(1, "ignored: the key is known", "") is first
    cache.bag(2, "Protein folding", "")
    assert cache.get(1) is first  # 1 is now the most recently used
    cache.bag(3, "Video diffusion", "")
    assert len(cache) == 2 and cache.get(2) is None and cache.get(1) is first


def test_the_whole_profile_is_one_bm25_query_weighted_by_how_often_the_profile_uses_each_term():
    kept = [{"gauss": 2, "splat": 1}, {"splat": 1}]  # the query: gauss twice, splat twice
    candidates = [{"splat": 1}, {"gauss": 1, "video": 1}, {"video": 2}]
    # 5 papers; gauss in 2 of them, splat in 3; candidates' mean length 5/3
    idf_gauss, idf_splat = math.log(1 + 3.5 / 2.5), math.log(1 + 2.5 / 3.5)
    norm_1, norm_2 = 1.2 * (0.25 + 0.75 * 1 / (5 / 3)), 1.2 * (0.25 + 0.75 * 2 / (5 / 3))
    raw = [2 * idf_splat * 2.2 / (1 + norm_1), 2 * idf_gauss * 2.2 / (1 + norm_2), 0.0]
    # divided by the best kept paper's score: the first (length 3), gauss twice and splat once
    norm_3 = 1.2 * (0.25 + 0.75 * 3 / (5 / 3))
    typical = 2 * idf_gauss * 2 * 2.2 / (2 + norm_3) + 2 * idf_splat * 2.2 / (1 + norm_3)
    assert typical > 2 * idf_splat * 2.2 / (1 + norm_1)  # the second kept paper is the first candidate
    expected = [value / typical for value in raw]
    assert list(whole_profile(candidates, kept)) == pytest.approx(expected)
    assert list(whole_profile(candidates, [])) == [0.0, 0.0, 0.0]
    assert whole_profile([], kept).shape == (0,)
