"""A member's private feed: the newest papers of what they follow, and papers like the ones
they saved.

Papers of each followed author, papers featured for each followed organization and each saved
search's newest results (``follow_news``: each with the reason it is there), and the papers most
similar to the member's few most recently saved ones (``similar_papers``: meaning and keyword
more-like-this), merged, each paper once, papers already in the library left out, newest first (by
when it was featured, else published). Built from cards like every other feed; an entry's summary
starts with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.services.follow_news import new_from_follows, when
from dailypapers.services.follows import follows_of
from dailypapers.services.library import saved_paper_ids
from dailypapers.services.papers import PaperCard
from dailypapers.services.search import similar_papers

FEED_ITEMS = 50
#: Papers like the member's this many most recently saved papers, this many each.
SIMILAR_SEEDS = 5
SIMILAR_EACH = 5


@dataclass(frozen=True)
class MemberFeed:
    cards: list[PaperCard]
    reasons: dict[str, str]  # by paper key


def member_feed(*, db: Session, engine: SearchEngine, user_id: int, limit: int = FEED_ITEMS) -> MemberFeed:
    """The private feed: what the member follows and papers like what they saved, newest first."""
    followed = new_from_follows(db=db, engine=engine, follows=follows_of(db=db, user_id=user_id), limit=limit)
    reasons = {item.card.key: item.reason for item in followed}
    cards = [item.card for item in followed]
    saved = saved_paper_ids(db=db, user_id=user_id)
    for pid in saved[:SIMILAR_SEEDS]:
        for card in similar_papers(db=db, engine=engine, paper_id=pid, limit=SIMILAR_EACH):
            cards.append(card)
            reasons.setdefault(card.key, "Like a paper you saved")
    kept = set(saved)
    unique = {card.id: card for card in cards if card.id not in kept}
    ordered = sorted(unique.values(), key=lambda c: (when(c), c.id), reverse=True)[:limit]
    return MemberFeed(ordered, {c.key: reasons[c.key] for c in ordered if c.key in reasons})
