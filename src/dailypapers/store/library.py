"""A member's library: collections of papers, their own state per paper (saved, read, a note),
what they follow, and the token of their private feed.

``paper_states.saved_at`` says a paper is in the member's library; every saved paper is in at
least one of their collections (the default one, "Saved", when none was named), and the
library service keeps the two in step in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.store.base import Base, utcnow

PRIVATE = "private"
LINK = "link"
PUBLIC = "public"
VISIBILITIES = (PRIVATE, LINK, PUBLIC)


class Collection(Base):
    """A member's named list of papers: private, readable by whoever has its link, or public."""

    __tablename__ = "collections"
    __table_args__ = (UniqueConstraint("user_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # casefolded, whitespace collapsed: "Reading list" and "reading  LIST" are one collection.
    name_key: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default=PRIVATE)
    # The unguessable part of the collection's share link (/c/<token>); a new one on each sharing.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CollectionItem(Base):
    __tablename__ = "collection_items"
    __table_args__ = (UniqueConstraint("collection_id", "paper_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PaperState(Base):
    """One member's own state of one paper: in their library since, read since, a private note."""

    __tablename__ = "paper_states"
    __table_args__ = (UniqueConstraint("user_id", "paper_id"),
                      Index("ix_paper_states_user_saved", "user_id", "saved_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    saved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


AUTHOR = "author"
ORGANIZATION = "org"
SEARCH = "search"
FOLLOW_KINDS = (AUTHOR, ORGANIZATION, SEARCH)


class Follow(Base):
    """A member follows an author, an organization or a saved search.

    ``target`` is what makes a follow unique per member: ``author:<id>``, ``org:<id>`` or
    ``search:<canonical query string>``; the foreign keys let a deleted author or organization
    take its follows with it.
    """

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(700))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    # A saved search: the search page's query string (q, mode and filters; no sort, no page).
    query: Mapped[str | None] = mapped_column(String(600))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FeedToken(Base):
    """The member's private feed token, as its SHA-256 (the token itself is derived from the
    site's secret and ``nonce``, so the account page can show the URL again without storing it).
    Revoking deletes the row; regenerating draws a new nonce."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
