""""New on arXiv": the newest catalog papers from arXiv, by category, for members to submit and
curators to feature (the papers ``sync arxiv`` brings in are in the catalog, not on day pages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import String, cast
from sqlalchemy.orm import Session

from dailypapers.services.errors import Invalid
from dailypapers.services.papers import PaperCard, card_select, fetch_cards
from dailypapers.store import Paper

# cs.LG, hep-th, astro-ph.GA, physics.optics, q-bio.NC, cond-mat.stat-mech
CATEGORY = re.compile(r"^[a-z][a-z\-]{0,19}(?:\.[A-Za-z][A-Za-z\-]{0,19})?$")


@dataclass(frozen=True)
class NewOnArxiv:
    cards: list[PaperCard]
    category: str | None
    page: int  # from 1
    has_next: bool


def check_category(value: str) -> str | None:
    """A category filter as typed (blank: none); ``Invalid`` when it cannot be a category."""
    value = value.strip()
    if not value:
        return None
    if not CATEGORY.match(value):
        raise Invalid(f"not an arXiv category: {value[:40]!r} (e.g. cs.LG, hep-th)")
    return value


def new_on_arxiv(*, db: Session, category: str | None, page: int, page_size: int) -> NewOnArxiv:
    """Papers with an arXiv id, newest first (by v1 date), of ``category`` when given (any of the
    paper's categories, cross-lists included). Featured papers are listed too: the card says so."""
    stmt = card_select().where(Paper.arxiv_id.is_not(None))
    if category:
        # categories is a JSON list; its text holds "cs.LG" with the quotes, on SQLite and PostgreSQL
        # alike, and a category has no LIKE wildcards (CATEGORY admits none).
        stmt = stmt.where(cast(Paper.categories, String).like(f'%"{category}"%'))
    stmt = (stmt.order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc())
            .offset((page - 1) * page_size).limit(page_size + 1))
    cards = fetch_cards(db=db, stmt=stmt)
    return NewOnArxiv(cards=cards[:page_size], category=category, page=page,
                      has_next=len(cards) > page_size)
