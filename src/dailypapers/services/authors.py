"""Authors as the site lists them: an author (by exact name) and their papers, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.services.papers import AuthorRef, PaperCard, card_select, fetch_cards
from dailypapers.store import Author, DailyEntry, Paper, PaperAuthor


@dataclass(frozen=True)
class AuthorPage:
    author: AuthorRef
    cards: list[PaperCard]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def author_page(*, db: Session, name: str, page: int = 0, page_size: int = 60) -> AuthorPage | None:
    """An author's papers, newest published first (undated last); ``None`` if no such author."""
    row = db.execute(select(Author.id, Author.name).where(Author.name == name)).first()
    if row is None:
        return None
    author = AuthorRef(*row)
    mine = select(PaperAuthor.paper_id).where(PaperAuthor.author_id == author.id)
    stmt = (card_select().where(Paper.id.in_(mine))
            .order_by(Paper.published_at.desc().nulls_last(), DailyEntry.day.desc().nulls_last(),
                      Paper.id.desc())
            .limit(page_size).offset(page * page_size))
    total = db.scalar(select(func.count()).select_from(PaperAuthor)
                      .where(PaperAuthor.author_id == author.id)) or 0
    return AuthorPage(author=author, cards=fetch_cards(db=db, stmt=stmt), total=total, page=page,
                      page_size=page_size)
