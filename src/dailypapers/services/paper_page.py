"""The paper page as one read model: the card, its comment threads and similar papers.

Everything a paper page shows is loaded here, on the request's session, before the template
renders. Templates that opened sessions of their own (comments, similar papers, votes) cost each
page several extra connection checkouts, and while routes still held theirs during rendering they
drained the pool under load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.services.explain import Reason
from dailypapers.services.similar import SimilarMemo, similar_for
from dailypapers.services import comments
from dailypapers.services.papers import PaperCard, get_card

SIMILAR_ON_PAGE = 6


@dataclass(frozen=True)
class PaperPage:
    """``canonical`` is False when the paper was asked for by another spelling of its id
    (``2401.01234v2``): the page then only carries the card, for the redirect."""

    card: PaperCard
    canonical: bool
    threads: list[comments.Thread]
    similar: list[PaperCard]
    # Which sentences matched, by similar paper id (those with sentence vectors).
    reasons: dict[int, list[Reason]] = field(default_factory=dict)


def paper_page(*, db: Session, engine: SearchEngine, memo: SimilarMemo, paper_id: str,
               similar_limit: int = SIMILAR_ON_PAGE) -> PaperPage | None:
    """The page of ``paper_id`` (arXiv id in any spelling, or store key); ``None`` when unknown.
    Similar papers come from ``memo`` while the catalog is unchanged (``services/similar.py``)."""
    card = get_card(db=db, paper_id=paper_id)
    if card is None:
        return None
    if card.key != paper_id:
        return PaperPage(card=card, canonical=False, threads=[], similar=[])
    similar, reasons = similar_for(db=db, engine=engine, memo=memo, card=card, limit=similar_limit)
    return PaperPage(card=card, canonical=True, threads=comments.threads_for(db=db, paper_id=card.id),
                     similar=similar, reasons=reasons)
