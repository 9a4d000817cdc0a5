"""Ranking papers for one member: pure functions over unit vectors (no database, no clock).

Two published ideas, a nearest-neighbour list and per-kept-paper BM25 (``lexical_profile.py``, with
the whole profile as one more BM25 query),
combined in ``rank_for_member`` as a weighted sum of z-scored features (``FEATURE_WEIGHTS``; this
replaced a reciprocal rank fusion of the vector lists, which bench/recommend.py found 14 % below
BM25 with the profile as one query):

1. **A recency-weighted profile** (zotero-arxiv-daily, TideDra/zotero-arxiv-daily,
   ``recommender.py::rerank_paper``): the member's kept papers, newest first, get weights

       w_i = 1 / (1 + log10(i + 1)),  i = 0, 1, …,  normalised to sum to 1,

   and a candidate scores ``Σ_i w_i · cos(candidate, kept_i)``. The newest kept paper weighs
   most, older ones less and less but never nothing.

2. **A per-member linear classifier** (arxiv-sanity-lite, karpathy/arxiv-sanity-lite,
   ``serve.py``: a ``LinearSVC(class_weight="balanced", C=0.1)`` per user on the papers they
   tagged, every other paper a negative). We fit an L2-regularised logistic regression by Newton's
   method (IRLS, numpy only) on the kept papers (label 1), the papers the member marked "not
   interested" (label 0, weighted ``DISMISSED_WEIGHT`` times a background paper) and a sample of
   the catalog they did not keep (label 0), classes balanced as sklearn's
   ``class_weight="balanced"`` does: ``n / (2 · n_class)``. It is used once the member has at
   least ``MIN_POSITIVES`` kept papers *and* at least ``MIN_DISMISSED`` papers of their own marked
   "not interested" (``uses_classifier``). With background papers as its only negatives it lowered
   recall on bench/recommend.py (.313 against .325 on the dev half), so without real negatives it
   is neither trained nor used; the bench has no dismissals, so its figures do not include it.

3. **The closest kept paper** (``nearest_scores``): each candidate's cosine to the one kept paper
   nearest to it, the paper its explanation names; it keeps a member's minor interests from being
   averaged away by the profile.

"Not interested" acts twice: as weighted negatives of the classifier, and directly on the
score: a candidate loses ``DISMISS_PENALTY · max(0, max_j cos(candidate, dismissed_j))`` times
``DISMISS_WEIGHT`` (z-units of the summed features), so even a member without enough
kept papers for a classifier sees the papers near
a dismissed one fall (tests/search/test_recommend.py, tests/services/test_recommend.py).

Each ranked paper is explained by the kept paper nearest to it (``nearest``): "close to X in
your library".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dailypapers.search import lexical_profile
from dailypapers.search.lexical_profile import Bag

#: Kept papers needed before the per-member classifier is trained.
MIN_POSITIVES = 4
#: "Not interested" papers needed as well. The classifier's point is the member's own negatives:
#: with background papers alone it cost recall on the bench. One or two dismissals may be a slip
#: of the finger or one topic the member is tired of; three are the first that can show a direction
#: to stay away from, and with each weighing ``DISMISSED_WEIGHT`` background papers they make about
#: 5 % of the negatives' weight against 300 background papers, enough to tilt the fit. Not tuned:
#: the bench has no dismissals to tune it on.
MIN_DISMISSED = 3
#: L2 penalty of the logistic regression (on the weights, not the bias).
L2 = 1.0
#: A "not interested" paper counts as this many background negatives in the classifier.
DISMISSED_WEIGHT = 5.0
#: How much of the closest dismissed paper's cosine is taken off a candidate's profile score.
DISMISS_PENALTY = 0.5
#: Weights of the z-scored features of ``rank_for_member`` (tuned on bench/recommend.py's dev half).
#: "lexical profile" (the whole profile as one BM25 query) at 0.5 raised recall@20 on the whole dev
#: half from .321 to .334 (1 and 1.5: .332). On the dev half's every 4th author: the classifier at
#: 0.25 trained on background negatives only lowered recall@20 (.313 against .325 at 0) and
#: correcting the cosine for hubs did too (.290 against .306), so ``nearest`` is the plain closest
#: kept paper's cosine and the classifier only
#: takes part with real negatives (``MIN_DISMISSED``). Its 0.25 is the least weight tried on the
#: bench: a quarter of one lexical feature, enough to re-order near ties by what the member
#: dismissed, too little to override what they kept (docs/site.md).
FEATURE_WEIGHTS = {"lexical best": 1.0, "lexical recent": 1.5, "lexical profile": 0.5, "nearest": 1.0,
                   "classifier": 0.25}
#: The smallest spread of the lexical features z-scoring divides by (they run from 0 to 1: the
#: candidate's score against a kept paper over the kept paper's against itself).
LEXICAL_FLOOR = 0.05
#: The same for the closest kept paper's cosine: among a handful of candidates a difference of .02
#: is not two standard deviations of anything.
COSINE_FLOOR = 0.05
#: The same for the classifier's logits: differences well under a logit mean nothing (a classifier
#: trained on a handful of papers against near copies of them).
CLASSIFIER_FLOOR = 0.5
#: The dismissal penalty (a cosine times ``DISMISS_PENALTY``) in z-units (standard deviations of
#: one feature): a candidate identical to a dismissed paper loses 1.5 of them.
DISMISS_WEIGHT = 3.0
#: Newton iterations at most, and the step size (max |Δ|) at which they stop.
MAX_ITERATIONS = 25
TOLERANCE = 1e-8

PROFILE_SOURCE = "TideDra/zotero-arxiv-daily, recommender.py::rerank_paper (time-decay weights)"
CLASSIFIER_SOURCE = "karpathy/arxiv-sanity-lite, serve.py (per-user linear SVM, balanced classes)"


def recency_weights(count: int) -> np.ndarray:
    """zotero-arxiv-daily's weights for ``count`` kept papers ordered newest first (sum 1)."""
    if count <= 0:
        return np.zeros(0)
    raw = 1.0 / (1.0 + np.log10(np.arange(count) + 1.0))
    return np.asarray(raw / raw.sum())


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float64."""
    matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.where(norms == 0, 1.0, norms))


def profile_scores(candidates: np.ndarray, kept: np.ndarray,
                   weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(score, nearest)`` per candidate: the weighted cosine to the kept papers, and the index of
    the kept paper most similar to it (the explanation). Rows must be unit vectors."""
    if len(kept) == 0:
        return np.zeros(len(candidates)), np.full(len(candidates), -1)
    sims = candidates @ kept.T
    return sims @ weights, np.argmax(sims, axis=1)


def nearest_scores(candidates: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Each candidate's cosine to its single closest kept paper (k-nearest-neighbour with k = 1):
    a member with several interests is not averaged into one (bench/recommend.py: recall@20 .23
    against the weighted mean's .16)."""
    if len(kept) == 0:
        return np.zeros(len(candidates))
    return np.asarray((candidates @ kept.T).max(axis=1))


def dismiss_penalty(candidates: np.ndarray, dismissed: np.ndarray, *,
                    penalty: float = DISMISS_PENALTY) -> np.ndarray:
    """``penalty · max(0, max_j cos(candidate, dismissed_j))`` per candidate (0 with none dismissed)."""
    if len(dismissed) == 0:
        return np.zeros(len(candidates))
    return np.asarray(penalty * np.maximum(0.0, (candidates @ dismissed.T).max(axis=1)))


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """sklearn's ``class_weight="balanced"``: each sample of class c weighs ``n / (2 · n_c)``."""
    labels = np.asarray(labels)
    n, positives = len(labels), int(labels.sum())
    negatives = n - positives
    if positives == 0 or negatives == 0:
        raise ValueError("both classes are needed")
    return np.where(labels == 1, n / (2.0 * positives), n / (2.0 * negatives))


@dataclass(frozen=True)
class LinearModel:
    weights: np.ndarray
    bias: float

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The logit of each row of ``x`` (higher: more like the kept papers)."""
        return np.asarray(x @ self.weights + self.bias)


def fit_logistic(x: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None = None, *,
                 l2: float = L2) -> LinearModel:
    """L2-regularised logistic regression by Newton's method (iteratively reweighted least squares).

    Minimises ``Σ_i s_i · logloss(y_i, σ(x_i·w + b)) + l2/2 · |w|²`` (the bias is not penalised).
    The objective is strictly convex for ``l2 > 0``, so the answer does not depend on a start or a
    seed; each step solves the ``(d+1)²`` Newton system (d = 384: milliseconds).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if l2 <= 0:
        raise ValueError("l2 must be positive")
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    ridge = np.full(d + 1, l2)
    ridge[-1] = 1e-9  # the bias is free; a tiny ridge keeps the system solvable when x is degenerate
    theta = np.zeros(d + 1)
    for _ in range(MAX_ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (s * (p - y)) + ridge * theta
        hessian = (design * (s * p * (1.0 - p))[:, None]).T @ design + np.diag(ridge)
        step = np.linalg.solve(hessian, gradient)
        theta = theta - step
        if np.max(np.abs(step)) < TOLERANCE:
            break
    return LinearModel(weights=theta[:-1], bias=float(theta[-1]))


def uses_classifier(*, kept: int, dismissed: int) -> bool:
    """Whether a member with ``kept`` kept and ``dismissed`` "not interested" papers gets the
    classifier: enough of both, and the feature has a weight."""
    return bool(FEATURE_WEIGHTS["classifier"]) and kept >= MIN_POSITIVES and dismissed >= MIN_DISMISSED


def train_member_model(kept: np.ndarray, dismissed: np.ndarray, background: np.ndarray, *,
                       dismissed_weight: float = DISMISSED_WEIGHT, l2: float = L2,
                       min_dismissed: int = MIN_DISMISSED) -> LinearModel | None:
    """The member's classifier, or ``None`` with fewer than ``MIN_POSITIVES`` kept papers, fewer
    than ``min_dismissed`` dismissed ones or no negatives at all. ``background`` are catalog papers
    the member did not keep (unit rows). bench/recommend.py passes ``min_dismissed=0`` to measure
    the classifier on background negatives alone."""
    if len(kept) < MIN_POSITIVES or len(dismissed) < min_dismissed or len(dismissed) + len(background) == 0:
        return None
    parts = [kept, dismissed, background]
    x = np.vstack([p for p in parts if len(p)])
    labels = np.concatenate([np.ones(len(kept)), np.zeros(len(dismissed) + len(background))])
    weights = balanced_weights(labels)
    weights[len(kept):len(kept) + len(dismissed)] *= dismissed_weight
    return fit_logistic(x, labels, weights, l2=l2)


@dataclass(frozen=True)
class Ranked:
    index: int  # row of the candidate matrix
    score: float  # the fused score (higher first)
    nearest: int  # row of the kept matrix closest to it, -1 without kept papers


def zscore(values: np.ndarray, *, floor: float = 0.0) -> np.ndarray:
    """``(x - mean) / max(std, floor)`` (zeros when all values are equal): ``floor`` keeps a
    feature whose values barely differ (no candidate shares a kept paper's words) from being
    blown up to the same weight as one that separates the candidates."""
    spread = max(float(values.std()), floor)
    return np.zeros(len(values)) if spread == 0 else np.asarray((values - values.mean()) / spread)


def rank_for_member(candidates: np.ndarray, kept: np.ndarray, *, dismissed: np.ndarray | None = None,
                    background: np.ndarray | None = None, model: LinearModel | None = None,
                    candidate_bags: Sequence[Bag] | None = None,
                    kept_bags: Sequence[Bag] | None = None) -> list[Ranked]:
    """Candidates ranked for a member, best first. ``kept`` (and ``kept_bags``) newest first.

    The score is a weighted sum of z-scored features (``FEATURE_WEIGHTS``): the two lexical ones
    (``lexical_profile``, when bags are given), the closest kept paper's cosine and the classifier's
    logit (when ``uses_classifier``: enough kept and dismissed papers; ``background`` are its
    other negatives), minus the dismissal penalty times ``DISMISS_WEIGHT``. Without kept
    papers every feature is zero and the candidates keep their order (the caller's cold-start
    order) minus the penalty. ``model``, when given, is a classifier trained already and is used
    whatever the dismissals (bench/recommend.py's experiment with background negatives only).
    """
    dims = candidates.shape[1] if candidates.ndim == 2 else 0
    dismissed = dismissed if dismissed is not None else np.zeros((0, dims))
    background = background if background is not None else np.zeros((0, dims))
    if len(candidates) == 0:
        return []
    _, nearest = profile_scores(candidates, kept, recency_weights(len(kept)))
    score = np.zeros(len(candidates))
    if len(kept):
        score += FEATURE_WEIGHTS["nearest"] * zscore(nearest_scores(candidates, kept), floor=COSINE_FLOOR)
        if candidate_bags is not None and kept_bags is not None and len(kept_bags):
            best, recent, whole = lexical_profile.features(candidate_bags, kept_bags,
                                                           recency_weights(len(kept_bags)))
            score += FEATURE_WEIGHTS["lexical best"] * zscore(best, floor=LEXICAL_FLOOR)
            score += FEATURE_WEIGHTS["lexical recent"] * zscore(recent, floor=LEXICAL_FLOOR)
            score += FEATURE_WEIGHTS["lexical profile"] * zscore(whole, floor=LEXICAL_FLOOR)
    if model is None and uses_classifier(kept=len(kept), dismissed=len(dismissed)):
        model = train_member_model(kept, dismissed, background)
    if model is not None and FEATURE_WEIGHTS["classifier"]:
        score += FEATURE_WEIGHTS["classifier"] * zscore(model.decision(candidates), floor=CLASSIFIER_FLOOR)
    score -= DISMISS_WEIGHT * dismiss_penalty(candidates, dismissed)
    return [Ranked(index=i, score=float(score[i]), nearest=int(nearest[i])) for i in _order(score)]


def _order(scores: np.ndarray) -> list[int]:
    """Indices by score, highest first; ties keep the candidates' order (a stable sort)."""
    return [int(i) for i in np.argsort(-scores, kind="stable")]
