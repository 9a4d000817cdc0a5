"""How much of the catalog each search mode can see: every paper for keywords, the papers that
have a vector of the configured model for meaning. The search page says it next to the modes, so
"meaning only" over a half-embedded catalog is not mistaken for "nothing matches"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.store import Embedding, Paper


@dataclass(frozen=True)
class Coverage:
    papers: int
    embedded: int

    @property
    def percent(self) -> int:
        """The share of papers searchable by meaning, rounded down (100 only when all are)."""
        return 100 * self.embedded // self.papers if self.papers else 0


def coverage(*, db: Session, model: str) -> Coverage:
    papers = db.scalar(select(func.count()).select_from(Paper)) or 0
    # One vector per (paper, model): a plain count over the (model, created_at) index.
    embedded = db.scalar(select(func.count()).select_from(Embedding).where(Embedding.model == model)) or 0
    return Coverage(papers=int(papers), embedded=min(int(embedded), int(papers)))
