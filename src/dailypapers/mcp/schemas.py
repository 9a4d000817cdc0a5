"""What the MCP tools return: small pydantic models built from ``PaperCard``s, never ORM rows.

The SDK turns each into JSON text for the model plus ``structuredContent`` checked against the
tool's output schema. Abstracts are cut at ``ABSTRACT_CHARS`` in lists (ten full abstracts are
pages of text for an assistant's context); ``get_paper`` gives the whole paper.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from dailypapers.services.papers import PaperCard

ABSTRACT_CHARS = 600
#: Listed by name up to this many; ``num_authors`` always gives the count.
AUTHORS_LISTED = 12


class PaperSummary(BaseModel):
    """One paper as lists show it."""

    id: str = Field(description="The paper's id (its arXiv id, or a seed- key): pass it to get_paper.")
    title: str
    authors: list[str] = Field(description=f"The first {AUTHORS_LISTED} authors, in printed order.")
    num_authors: int
    published: dt.date | None = Field(None, description="First version's date.")
    featured_on: dt.date | None = Field(None, description="The day it was featured in Daily Papers.")
    organization: str | None = None
    upvotes: int
    comments: int
    url: str = Field(description="The paper's page on this site.")
    arxiv_url: str | None = None
    code: str | None = Field(None, description="Code repository, when the paper has one.")
    abstract: str = Field(description=f"The abstract, cut at {ABSTRACT_CHARS} characters (get_paper has it all).")


class PaperList(BaseModel):
    papers: list[PaperSummary]


class SearchResults(PaperList):
    total: int = Field(description="Matches over all pages.")
    page: int
    notice: str | None = Field(None, description="How the query was understood, when it was not as typed.")


class DailyPapers(PaperList):
    period: str | None = Field(description="The day, week or month listed (None: no paper is featured yet).")


class TrendingPaper(PaperSummary):
    score: float = Field(description="The trending score (see /papers/trending/about).")


class Trending(BaseModel):
    as_of: dt.datetime = Field(description="The clock of the ranking (UTC): the end of the newest featured day.")
    total: int
    papers: list[TrendingPaper]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def summary(card: PaperCard, *, base_url: str) -> PaperSummary:
    names = [a.name for a in card.authors]
    return PaperSummary(
        id=card.key, title=card.title, authors=names[:AUTHORS_LISTED],
        num_authors=card.author_count,
        published=card.published_at.date() if card.published_at else None,
        featured_on=card.featured_on,
        organization=card.organization.name if card.organization else None,
        upvotes=card.upvotes, comments=card.num_comments,
        url=f"{base_url.rstrip('/')}/papers/{card.key}", arxiv_url=card.arxiv_url,
        code=card.github_repo, abstract=_cut(card.abstract or "", ABSTRACT_CHARS))


def summaries(cards: list[PaperCard], *, base_url: str) -> list[PaperSummary]:
    return [summary(card, base_url=base_url) for card in cards]


class SavedPaper(BaseModel):
    id: str
    saved: bool = Field(description="In the member's library.")
    read: bool = Field(description="Marked as read.")
    collection: str = Field(description="The collection it was saved to.")
    library_url: str = Field(description="The member's library on the site.")


class ForYouPaper(PaperSummary):
    reason: str = Field(description="Why it is on the list, in words.")
    close_to: str | None = Field(None, description="The id of the kept paper it is closest to, when that is why.")
    score: float


class ForYou(BaseModel):
    day: dt.date | None = Field(description="The day the list is for (None: nothing is featured yet).")
    cold_start: bool = Field(description="Nothing kept yet: follows and popular papers only; save a few.")
    kept: int = Field(description="Papers in the member's profile (library and upvotes).")
    papers: list[ForYouPaper]
