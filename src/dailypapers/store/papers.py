"""Paper, Author and the ordered link between them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dailypapers.store.base import Base, utcnow


class Paper(Base):
    """A paper, keyed by its arXiv id without version (``key``).

    Papers that arrived without an arXiv id (seed cards) get a stable ``seed-…`` key derived from
    their title; when the same paper later arrives with an arXiv id, the row is merged and its
    key becomes the arXiv id.
    """

    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    arxiv_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(512), index=True)
    abstract: Mapped[str] = mapped_column(Text, default="")
    # How many authors the paper has when only a count is known (seed cards: "• 13 authors").
    num_authors: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    github_repo: Mapped[str | None] = mapped_column(String(500))
    project_page: Mapped[str | None] = mapped_column(String(500))
    # What Hugging Face serves about a paper beyond arXiv's metadata (added by 0011).
    ai_summary: Mapped[str | None] = mapped_column(Text)
    ai_summary_model: Mapped[str | None] = mapped_column(String(200))
    ai_keywords: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    github_stars: Mapped[int | None] = mapped_column(Integer)
    media_urls: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    thumbnail: Mapped[str | None] = mapped_column(String(500))
    # Upvotes reported by the source we imported from; ``upvotes`` adds the local votes to it.
    imported_upvotes: Mapped[int] = mapped_column(Integer, default=0)
    upvotes: Mapped[int] = mapped_column(Integer, default=0, index=True)
    imported_comments: Mapped[int] = mapped_column(Integer, default=0)
    num_comments: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    author_links: Mapped[list[PaperAuthor]] = relationship(
        back_populates="paper",
        order_by="PaperAuthor.position",
        cascade="all, delete-orphan",
    )

    @property
    def author_names(self) -> list[str]:
        return [link.author.name for link in self.author_links]

    @property
    def author_count(self) -> int:
        return len(self.author_links) or (self.num_authors or 0)


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)


class PaperAuthor(Base):
    """The authors of a paper in their printed order."""

    __tablename__ = "paper_authors"

    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    # The author's Hugging Face user name when the source linked one (``authors[].user.user``).
    user: Mapped[str | None] = mapped_column(String(100))

    paper: Mapped[Paper] = relationship(back_populates="author_links")
    author: Mapped[Author] = relationship(lazy="joined")
