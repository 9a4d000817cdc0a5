""""For you": the day's papers and the recent catalog, ranked for one member, each with a reason.

What the member kept (papers in their library and papers they upvoted, newest first) is their
profile; papers they marked "not interested" are the negatives; the maths is
``search/recommend.py`` (each kept paper as a BM25 query, the closest kept paper's cosine, a
per-member classifier once there are enough kept papers and "not interested" ones: z-scored and
summed). Papers new from
authors, organizations and saved searches the member follows (``follow_news``, within the
candidates' span) join as one more ranked list, with the follow as their reason, so a member
with follows but an empty library (cold start) gets those first; a member with neither gets the
popular papers of the period with a request to keep a few (the "picks"), never an empty page.

Candidates: the papers featured on ``day`` (or, without a day, up to the newest featured day) and
in the ``RECENT_DAYS`` before it, plus papers published on arXiv in that span that nobody featured
(the arXiv sync brings those in). Kept and dismissed papers are never candidates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dailypapers.search import lexical_profile, recommend
from dailypapers.search.fusion import reciprocal_rank_fusion
from dailypapers.search.engine import SearchEngine
from dailypapers.services.errors import NotFound
from dailypapers.services.follow_news import new_from_follows
from dailypapers.services.follows import follows_of
from dailypapers.services.papers import PaperCard, load_cards, paper_key
from dailypapers.store import DailyEntry, Dismissal, Embedding, Paper, PaperState, Upvote
from dailypapers.store.base import utcnow
from dailypapers.store.bulk import insert_if_absent

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: The recent catalog: papers featured or published this many days before the day, and that day.
RECENT_DAYS = 14
#: At most this many candidates are ranked (the newest); the rest would not reach a page anyway.
MAX_CANDIDATES = 2000
#: The profile: the member's newest kept papers, at most this many.
MAX_KEPT = 200
#: Dismissed papers that act as negatives (the newest).
MAX_DISMISSED = 200
#: Background negatives of the classifier (arxiv-sanity: every paper the member did not keep;
#: here the papers featured last before the recent catalog, which is what bench/recommend.py measured).
BACKGROUND = 300
#: Term bags of recently ranked papers, by (paper id, content hash): a page view tokenises only
#: papers it has not seen (one per worker process; lexical_profile.CACHE_SIZE bags, ~20 MB).
BAGS = lexical_profile.BagCache()
DEFAULT_LIMIT = 30
MAX_LIMIT = 100
#: Papers new from follows considered per list (the newest).
MAX_FOLLOWED = 500


@dataclass(frozen=True)
class Reason:
    """Why a paper is on the member's list; ``paper`` links the kept paper it is close to."""

    kind: str  # "library", "follow", "popular"
    text: str
    paper_key: str | None = None
    paper_title: str | None = None


@dataclass(frozen=True)
class ForYouItem:
    card: PaperCard
    reason: Reason
    score: float


@dataclass(frozen=True)
class ForYou:
    items: list[ForYouItem]
    day: dt.date | None  # the day the list is for (None: the catalog has no featured day)
    kept: int  # papers in the profile
    dismissed: int
    follows: int  # authors, organizations and saved searches followed
    cold: bool  # nothing kept: follows and popular papers only
    personalised_model: bool  # the per-member classifier took part


def _kept(db: Session, user_id: int) -> list[int]:
    """Saved and upvoted papers, most recently kept first (a paper counts once, at its newest)."""
    saved = db.execute(select(PaperState.paper_id, PaperState.saved_at).where(
        PaperState.user_id == user_id, PaperState.saved_at.is_not(None))
        .order_by(PaperState.saved_at.desc()).limit(MAX_KEPT)).all()
    voted = db.execute(select(Upvote.paper_id, Upvote.created_at).where(Upvote.user_id == user_id)
                       .order_by(Upvote.created_at.desc()).limit(MAX_KEPT)).all()
    newest: dict[int, dt.datetime] = {}
    for pid, when in [*saved, *voted]:
        if when is not None and (pid not in newest or when > newest[pid]):
            newest[pid] = when
    return sorted(newest, key=lambda pid: (newest[pid], pid), reverse=True)[:MAX_KEPT]


def dismissed_ids(*, db: Session, user_id: int) -> list[int]:
    """The member's "not interested" papers, newest first."""
    return list(db.scalars(select(Dismissal.paper_id).where(Dismissal.user_id == user_id)
                           .order_by(Dismissal.created_at.desc(), Dismissal.id.desc()).limit(MAX_DISMISSED)))


def _anchor(db: Session, day: dt.date | None) -> dt.date | None:
    if day is not None:
        return day
    return db.scalar(select(func.max(DailyEntry.day)))


def _candidates(db: Session, anchor: dt.date, exclude: set[int]) -> list[int]:
    """The day's papers first, then the recent catalog, newest first."""
    start = anchor - dt.timedelta(days=RECENT_DAYS)
    featured = db.execute(select(DailyEntry.paper_id, DailyEntry.day).where(
        DailyEntry.day >= start, DailyEntry.day <= anchor)
        .order_by(DailyEntry.day.desc(), DailyEntry.paper_id)).all()
    unfeatured = db.scalars(select(Paper.id).outerjoin(DailyEntry, DailyEntry.paper_id == Paper.id).where(
        DailyEntry.id.is_(None), Paper.published_at >= dt.datetime.combine(start, dt.time()),
        Paper.published_at < dt.datetime.combine(anchor + dt.timedelta(days=1), dt.time()),
        Paper.withdrawn_at.is_(None)).order_by(Paper.published_at.desc(), Paper.id)
        .limit(MAX_CANDIDATES)).all()
    ordered = [pid for pid, d in featured if d == anchor] + [pid for pid, d in featured if d != anchor]
    ordered += list(unfeatured)
    return [pid for pid in dict.fromkeys(ordered) if pid not in exclude][:MAX_CANDIDATES]


def _background(db: Session, anchor: dt.date, exclude: set[int]) -> list[int]:
    """The classifier's negatives: the papers featured last before the recent catalog (as in
    bench/recommend.py), not kept and not dismissed; none of them is ranked."""
    start = anchor - dt.timedelta(days=RECENT_DAYS)
    ids = db.scalars(select(DailyEntry.paper_id).where(DailyEntry.day < start)
                     .order_by(DailyEntry.day.desc(), DailyEntry.paper_id).limit(BACKGROUND + len(exclude)))
    return [pid for pid in ids if pid not in exclude][:BACKGROUND]


def _vectors(db: Session, model: str, paper_ids: Sequence[int]) -> tuple[dict[int, np.ndarray], dict[int, str]]:
    """The papers' vectors, and the content hash each was computed from (the bags' cache key)."""
    out: dict[int, np.ndarray] = {}
    hashes: dict[int, str] = {}
    ids = list(paper_ids)
    for start in range(0, len(ids), 500):
        rows = db.execute(select(Embedding.paper_id, Embedding.vector, Embedding.content_hash).where(
            Embedding.model == model, Embedding.paper_id.in_(ids[start:start + 500])))
        for pid, blob, digest in rows:
            out[pid] = np.frombuffer(blob, dtype="<f4")
            hashes[pid] = digest
    return out, hashes


def _bags(db: Session, hashes: dict[int, str], paper_ids: Sequence[int]) -> list[lexical_profile.Bag]:
    """The papers' term bags, from ``BAGS`` when their text (content hash) is unchanged; only the
    others' titles and abstracts are read and tokenised. The key holds the database too: one
    process may serve several (the tests do), where paper ids repeat."""
    bind = db.get_bind()
    where = str(bind.engine.url)
    missing = [pid for pid in paper_ids if BAGS.get((where, pid, hashes[pid])) is None]
    for start in range(0, len(missing), 500):
        for pid, title, abstract in db.execute(select(Paper.id, Paper.title, Paper.abstract).where(
                Paper.id.in_(missing[start:start + 500]))):
            BAGS.bag((where, pid, hashes[pid]), title or "", abstract or "")
    return [BAGS.get((where, pid, hashes[pid])) or {} for pid in paper_ids]


def _matrix(vectors: dict[int, np.ndarray], ids: Sequence[int], dim: int) -> np.ndarray:
    if not ids:
        return np.zeros((0, dim))
    return recommend.normalise(np.stack([vectors[i] for i in ids]))


def _upvotes(db: Session, paper_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for start in range(0, len(paper_ids), 500):
        for pid, count in db.execute(select(Paper.id, Paper.upvotes).where(
                Paper.id.in_(paper_ids[start:start + 500]))):
            out[pid] = count
    return out


def _followed(db: Session, engine: SearchEngine | None, user_id: int, anchor: dt.date,
              candidates: list[int]) -> tuple[dict[int, str], int]:
    """Candidates new from a followed author, organization or saved search (``follow_news``: inside
    the recent catalog), with the reason to show; and how many follows the member has."""
    follows = follows_of(db=db, user_id=user_id)
    count = len(follows.authors) + len(follows.orgs) + len(follows.searches)
    if not candidates or follows.empty:
        return {}, count
    start = dt.datetime.combine(anchor - dt.timedelta(days=RECENT_DAYS), dt.time())
    news = new_from_follows(db=db, engine=engine, follows=follows, since=start,
                            until=dt.datetime.combine(anchor + dt.timedelta(days=1), dt.time()),
                            limit=MAX_FOLLOWED)
    wanted = set(candidates)
    return {item.card.id: item.reason for item in news if item.card.id in wanted}, count


def for_you(*, db: Session, user_id: int, day: dt.date | None = None, limit: int = DEFAULT_LIMIT,
            model: str = DEFAULT_MODEL, engine: SearchEngine | None = None) -> ForYou:
    """The member's "For you" list for ``day`` (default: the newest featured day), best first.

    ``engine`` runs the member's followed saved searches; without it only followed authors and
    organizations join."""
    limit = max(1, min(limit, MAX_LIMIT))
    anchor = _anchor(db, day)
    kept_ids = _kept(db, user_id)
    dismissed = dismissed_ids(db=db, user_id=user_id)
    if anchor is None:
        return ForYou([], None, len(kept_ids), len(dismissed), 0, not kept_ids, False)
    candidates = _candidates(db, anchor, set(kept_ids) | set(dismissed))
    followed, follow_count = _followed(db, engine, user_id, anchor, candidates)
    background = _background(db, anchor, set(kept_ids) | set(dismissed)) \
        if recommend.uses_classifier(kept=len(kept_ids), dismissed=len(dismissed)) else []
    vectors, hashes = _vectors(db, model, [*candidates, *kept_ids, *dismissed, *background])
    dim = next((v.shape[0] for v in vectors.values()), 0)
    kept = [pid for pid in kept_ids if pid in vectors]
    ranked_ids = [pid for pid in candidates if pid in vectors]
    lists: list[list[int]] = []
    nearest: dict[int, int] = {}
    used_model = False
    if kept or dismissed:
        cand = _matrix(vectors, ranked_ids, dim)
        dismissed_vectors = [p for p in dismissed if p in vectors]
        ranked = recommend.rank_for_member(
            cand, _matrix(vectors, kept, dim),
            dismissed=_matrix(vectors, dismissed_vectors, dim),
            background=_matrix(vectors, [p for p in background if p in vectors], dim),
            candidate_bags=_bags(db, hashes, ranked_ids) if kept else None,
            kept_bags=_bags(db, hashes, kept) if kept else None)
        lists.append([ranked_ids[r.index] for r in ranked])
        nearest = {ranked_ids[r.index]: kept[r.nearest] for r in ranked if r.nearest >= 0}
        # the same test rank_for_member makes (on the papers that have vectors)
        used_model = recommend.uses_classifier(kept=len(kept), dismissed=len(dismissed_vectors))
    if followed:
        lists.append([pid for pid in candidates if pid in followed])
    if not kept:
        # Cold start (or no vectors yet): the period's popular papers, the day's first.
        upvotes = _upvotes(db, candidates)
        lists.append(sorted(candidates, key=lambda pid: -upvotes.get(pid, 0)))
    fused = reciprocal_rank_fusion(lists)[:limit]
    # Cards only for what is shown (a page, not the up to 2,000 candidates), with the kept papers
    # the explanations name, in one load.
    loaded = {c.id: c for c in load_cards(db=db, paper_ids=[
        *(p for p, _ in fused), *(nearest[p] for p, _ in fused if p in nearest)])}
    cards = titles = loaded
    items = []
    for pid, score in fused:
        if pid not in cards:
            continue
        items.append(ForYouItem(cards[pid], _reason(pid, followed, nearest, titles), score))
    return ForYou(items, anchor, len(kept_ids), len(dismissed), follow_count, not kept_ids, used_model)


def _reason(pid: int, followed: dict[int, str], nearest: dict[int, int], titles: dict[int, PaperCard]) -> Reason:
    if pid in followed:
        return Reason("follow", followed[pid])
    if pid in nearest and nearest[pid] in titles:
        card = titles[nearest[pid]]
        return Reason("library", "Close to", card.key, card.title)
    return Reason("popular", "Popular in the last two weeks")


def reason_text(reason: Reason) -> str:
    """The reason as one line of plain text (mail, JSON)."""
    if reason.kind == "library":
        return f"Close to “{reason.paper_title}” in your library"
    return reason.text


def _paper_id(db: Session, key: str) -> int:
    pid = db.scalar(select(Paper.id).where(Paper.key == paper_key(key)))
    if pid is None:
        raise NotFound("No such paper.")
    return pid


def dismiss(*, db: Session, user_id: int, paper_key: str) -> int:
    """Mark a paper "not interested" (again: nothing changes); its id."""
    pid = _paper_id(db, paper_key)
    insert_if_absent(db=db, table=Dismissal.__table__,
                     values={"user_id": user_id, "paper_id": pid, "created_at": utcnow()})
    return pid


def undismiss(*, db: Session, user_id: int, paper_key: str) -> int:
    """Take a "not interested" back (without one: nothing changes); the paper's id."""
    pid = _paper_id(db, paper_key)
    db.execute(delete(Dismissal).where(Dismissal.user_id == user_id, Dismissal.paper_id == pid))
    return pid
