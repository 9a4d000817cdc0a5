"""Topics: saved searches of subscribers, answered by the site's hybrid search service.

A topic's "new matches" are papers featured in the trending window (``WINDOW_DAYS`` before the
site's trending clock) that match the topic's words, in the order of the hybrid search
(BM25 fused with nearest neighbours by meaning). The word match is a gate because fusion
ranks *every* candidate: without it, a quiet day would fill a topic section with papers that
are merely the least distant ones. The same list feeds the topic's section in a digest and its
Atom feed (the no-email way to follow it).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.services.search import SearchFilters, SearchRequest, search_papers
from dailypapers.services.daily import latest_day
from dailypapers.services.feeds import FeedInfo, build_feed, feed_updated
from dailypapers.services.papers import PaperCard
from dailypapers.services.subscription_preferences import MAX_TOPIC, parse_topics
from dailypapers.services.subscriptions import SubscriptionError
from dailypapers.services.trending import WINDOW_DAYS, trending_clock
from dailypapers.settings import Settings
from dailypapers.store.base import utcnow

FEED_ITEMS = 30
_DEPTH = 100  # the search service's largest page


def feed_url(*, base: str, query: str) -> str:
    return f"{base.rstrip('/')}/topics/feed.atom?{urlencode({'q': query})}"


def new_matches(*, db: Session, engine: SearchEngine, query: str, as_of: dt.datetime,
                limit: int) -> list[PaperCard]:
    """Best hybrid-search matches of ``query`` among the papers that arrived in the window:
    featured in it, or catalog papers (synced from arXiv, never featured) first published in it."""
    clock = trending_clock(latest_day=latest_day(db=db), now=as_of)
    filters = SearchFilters(arrived_from=(clock - dt.timedelta(days=WINDOW_DAYS)).date(),
                            arrived_to=clock.date())

    def ranked(mode: str) -> list[PaperCard]:
        request = SearchRequest(q=query, filters=filters, mode=mode,  # type: ignore[arg-type]
                                per_page=_DEPTH)
        return [hit.card for hit in search_papers(db=db, engine=engine, request=request).hits]

    hybrid = ranked("hybrid")
    if engine.semantic:
        matching = {card.id for card in ranked("keyword")}
        hybrid = [card for card in hybrid if card.id in matching]
    return hybrid[:limit]


def topic_feed(*, db: Session, settings: Settings, engine: SearchEngine, query: str,
               now: dt.datetime | None = None) -> tuple[bytes, dt.datetime]:
    """The Atom feed of a topic and when it last changed; raises ``SubscriptionError`` for an
    empty or invalid topic."""
    topics = parse_topics([query])
    if not topics:
        raise SubscriptionError(f"Give a topic as ?q=… (at most {MAX_TOPIC} characters).")
    topic = topics[0]
    cards = new_matches(db=db, engine=engine, query=topic, as_of=now or utcnow(),
                        limit=FEED_ITEMS)
    base = settings.base_url.rstrip("/")
    info = FeedInfo(title=f"{settings.site_name}: {topic}",
                    description=f"New papers matching “{topic}”",
                    page_url=f"{base}/search?{urlencode({'q': topic})}",
                    self_url=feed_url(base=base, query=topic))
    return build_feed(info=info, cards=cards, fmt="atom", base_url=base), feed_updated(cards)
