"""Reciprocal rank fusion of ranked lists.

G. V. Cormack, C. L. A. Clarke, S. Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
individual Rank Learning Methods", SIGIR 2009, pp. 758–759:

    RRFscore(d) = Σ_{r ∈ R} 1 / (k + r(d)),  with k = 60 and r(d) the 1-based rank of d in list r.

We add one weight per list (``w_r / (k + r(d))``) so operators can lean on keywords or meaning.
Ranks, not scores, are fused because BM25 scores and cosine similarities are not comparable.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

DEFAULT_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]],
    *,
    k: int = DEFAULT_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[K, float]]:
    """Fuse ranked lists (best first) into one list of ``(item, score)``, best first.

    An item repeated within one list counts at its first (best) rank only. Ties are broken by the
    item's best rank in any list, then by the order in which the lists first name it, so the
    result is deterministic.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is needed")
    scores: dict[K, float] = {}
    best_rank: dict[K, int] = {}
    first_seen: dict[K, int] = {}
    seen = 0
    for ranking, weight in zip(rankings, weights, strict=True):
        counted: set[K] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in counted:
                continue
            counted.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
            if item not in first_seen:
                first_seen[item] = seen
                seen += 1
    order = sorted(scores, key=lambda item: (-scores[item], best_rank[item], first_seen[item]))
    return [(item, scores[item]) for item in order]
