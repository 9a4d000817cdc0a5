"""A member's private feed: the newest papers of what they follow, and papers like the ones
they saved.

Papers of each followed author (newest published first), papers featured for each followed
organization, each saved search's newest results, and the papers most similar to the member's
few most recently saved ones (``similar_papers``: meaning and keyword more-like-this), merged,
each paper once, papers already in the library left out, newest first (by when it was featured,
else published). Built from cards like every other feed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.services.follows import Follows, follows_of, search_request
from dailypapers.services.papers import PaperCard, card_select, fetch_cards
from dailypapers.services.library import saved_paper_ids
from dailypapers.services.search import SearchError, search_papers, similar_papers
from dailypapers.store import DailyEntry, Paper, PaperAuthor

FEED_ITEMS = 50
#: A saved search adds at most this many of its newest results.
PER_SEARCH = 20
#: Papers like the member's this many most recently saved papers, this many each.
SIMILAR_SEEDS = 5
SIMILAR_EACH = 5
_OLDEST = dt.datetime(1, 1, 1)


def _when(card: PaperCard) -> dt.datetime:
    return card.featured_at or card.published_at or _OLDEST


def followed_cards(*, db: Session, engine: SearchEngine, follows: Follows,
                   limit: int = FEED_ITEMS) -> list[PaperCard]:
    """The newest papers of ``follows`` (authors, organizations, saved searches), each once."""
    cards: list[PaperCard] = []
    if follows.authors:
        theirs = select(PaperAuthor.paper_id).where(
            PaperAuthor.author_id.in_([a.id for a in follows.authors]))
        cards += fetch_cards(db=db, stmt=card_select().where(Paper.id.in_(theirs))
                             .order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc())
                             .limit(limit))
    if follows.orgs:
        cards += fetch_cards(db=db, stmt=card_select()
                             .where(DailyEntry.organization_id.in_([o.id for o in follows.orgs]))
                             .order_by(DailyEntry.day.desc(), Paper.id.desc()).limit(limit))
    for saved in follows.searches:
        try:
            page = search_papers(db=db, engine=engine,
                                 request=search_request(saved.query, per_page=PER_SEARCH))
        except SearchError:
            continue  # a saved search the search no longer accepts: the rest of the feed stands
        cards += [hit.card for hit in page.hits]
    unique = {card.id: card for card in cards}
    return sorted(unique.values(), key=lambda c: (_when(c), c.id), reverse=True)[:limit]


def member_feed_cards(*, db: Session, engine: SearchEngine, user_id: int,
                      limit: int = FEED_ITEMS) -> list[PaperCard]:
    """The private feed: what the member follows and papers like what they saved, newest first."""
    cards = followed_cards(db=db, engine=engine, follows=follows_of(db=db, user_id=user_id), limit=limit)
    saved = saved_paper_ids(db=db, user_id=user_id)
    for pid in saved[:SIMILAR_SEEDS]:
        cards += similar_papers(db=db, engine=engine, paper_id=pid, limit=SIMILAR_EACH)
    kept = set(saved)
    unique = {card.id: card for card in cards if card.id not in kept}
    return sorted(unique.values(), key=lambda c: (_when(c), c.id), reverse=True)[:limit]
