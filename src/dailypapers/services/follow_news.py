"""New papers of what a member follows, each with the reason it is there.

One function serves the three places follows reach: For you (its recent catalog), the private
feed and the digest's "From people and labs you follow" section. A paper is *new* for a window
[``since``, ``until``) when it was published on arXiv or featured on the site inside it:

- For you: the window is its recent catalog (the day and the ``RECENT_DAYS`` before it);
- the digest: from the previous digest sent to the subscription (the first one: the period
  before this one) to the end of this period; papers it already sent are never sent again;
- the private feed: no lower bound, the newest ``FEED_ITEMS``; a feed reader shows as new the
  entries it has not seen (an entry's id is the paper's address, so none comes twice).

The window is not cut at the moment of following: who follows an author today wants the paper
they published yesterday. The reason names the follow: "New from <author>, whom you follow",
"New from <organization>, which you follow", "Matches your search “<words>”"; a paper that
several follows bring gets the first (authors, then organizations, then searches).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.services.follows import Follows, search_request
from dailypapers.services.papers import PaperCard, card_select, fetch_cards
from dailypapers.services.search import SearchError, search_papers
from dailypapers.store import DailyEntry, Paper, PaperAuthor

#: A saved search adds at most this many of its newest results.
PER_SEARCH = 20
_OLDEST = dt.datetime(1, 1, 1)


@dataclass(frozen=True)
class FollowedPaper:
    card: PaperCard
    reason: str


def when(card: PaperCard) -> dt.datetime:
    """When a paper reached the site's lists: featured, else published."""
    return card.featured_at or card.published_at or _OLDEST


def _inside(card: PaperCard, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    times = [t for t in (card.featured_at, card.published_at) if t is not None]
    return any((since is None or t >= since) and (until is None or t < until) for t in times)


def _window(stmt: Select, since: dt.datetime | None,  # type: ignore[type-arg]
            until: dt.datetime | None) -> Select:  # type: ignore[type-arg]
    """Papers published or featured inside the window (the SQL side of ``_inside``)."""
    published: list[ColumnElement[bool]] = []
    featured: list[ColumnElement[bool]] = []
    if since is not None:
        published.append(Paper.published_at >= since)
        featured.append(DailyEntry.day >= since.date())
    if until is not None:
        published.append(Paper.published_at < until)
        featured.append(DailyEntry.day <= until.date())
    if not published:
        return stmt
    # ``card_select`` outer-joins the paper's daily entry: an unfeatured paper has no day.
    return stmt.where(or_(and_(*published), and_(*featured)))


def _constant(text: str) -> Callable[[PaperCard], str]:
    return lambda _card: text


def new_from_follows(*, db: Session, engine: SearchEngine | None, follows: Follows,
                     since: dt.datetime | None = None, until: dt.datetime | None = None,
                     limit: int = 50) -> list[FollowedPaper]:
    """The papers of ``follows`` new in [``since``, ``until``), newest first, each once with its
    reason. Without an engine saved searches are skipped (nothing else needs one)."""
    reasons: dict[int, str] = {}
    cards: dict[int, PaperCard] = {}

    def add(found: list[PaperCard], reason_of: Callable[[PaperCard], str]) -> None:
        for card in found:
            if _inside(card, since, until) and card.id not in reasons:
                reasons[card.id], cards[card.id] = reason_of(card), card

    if follows.authors:
        names = {a.id: a.name for a in follows.authors}
        theirs = select(PaperAuthor.paper_id).where(PaperAuthor.author_id.in_(list(names)))
        found = fetch_cards(db=db, stmt=_window(card_select().where(Paper.id.in_(theirs)), since, until)
                            .order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc()).limit(limit))
        add(found, lambda c: "New from " + next((a.name for a in c.authors if a.id in names),
                                                 follows.authors[0].name) + ", whom you follow")
    if follows.orgs:
        orgs = {o.id: o.name for o in follows.orgs}
        found = fetch_cards(db=db, stmt=_window(card_select().where(
            DailyEntry.organization_id.in_(list(orgs))), since, until)
            .order_by(DailyEntry.day.desc(), Paper.id.desc()).limit(limit))
        add(found, lambda c: f"New from {c.organization.name if c.organization else ''}, which you follow")
    for saved in follows.searches:
        if engine is None:
            break
        try:
            page = search_papers(db=db, engine=engine,
                                 request=search_request(saved.query, per_page=PER_SEARCH))
        except SearchError:
            continue  # a saved search the search no longer accepts: the others stand
        add([hit.card for hit in page.hits], _constant(f"Matches your search “{saved.label}”"))
    ordered = sorted(cards.values(), key=lambda c: (when(c), c.id), reverse=True)[:limit]
    return [FollowedPaper(card, reasons[card.id]) for card in ordered]
