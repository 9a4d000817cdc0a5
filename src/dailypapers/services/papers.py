"""Papers as the site shows them: ``PaperCard`` (one read model for cards, paper pages, the API and
feeds) and the queries that load cards in two statements whatever their number.

Every listing (a day, a week, trending, an organization, an author, search results) selects the
ids and order it wants with ``card_select()`` and hands the statement to ``fetch_cards``; search
and other callers that already hold ranked paper ids use ``load_cards``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Select, Text, and_, bindparam, cast, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from dailypapers.sources.records import ARXIV_ID
from dailypapers.store import Author, DailyEntry, Organization, Paper, PaperAuthor


class OrgRef(NamedTuple):
    # Named tuples, not frozen dataclasses: a page builds one per author of every card, and a
    # frozen dataclass's __init__ (object.__setattr__ per field) cost more than the query.
    id: int
    handle: str
    name: str
    avatar_url: str | None = None


class AuthorRef(NamedTuple):
    id: int
    name: str
    user: str | None = None  # the author's Hugging Face user name, when a source linked one


@dataclass(frozen=True)
class PaperCard:
    """A paper with its authors and, when it was featured, its daily entry (day, submitter, org)."""

    id: int
    key: str
    arxiv_id: str | None
    title: str
    abstract: str
    authors: tuple[AuthorRef, ...]
    num_authors: int | None
    published_at: dt.datetime | None
    upvotes: int
    num_comments: int  # imported_comments (a count from the source) + comments written here
    imported_comments: int
    github_repo: str | None
    project_page: str | None
    featured_on: dt.date | None
    submitted_at: dt.datetime | None
    submitted_by: str | None
    organization: OrgRef | None
    submitter_fullname: str | None = None
    submitter_avatar_url: str | None = None
    featured_estimated: bool = False
    ai_summary: str | None = None
    ai_summary_model: str | None = None
    ai_keywords: tuple[str, ...] | None = None
    github_stars: int | None = None
    media_urls: tuple[str, ...] | None = None
    thumbnail: str | None = None

    @property
    def author_count(self) -> int:
        return len(self.authors) or (self.num_authors or 0)

    @property
    def local_comments(self) -> int:
        """Comments written on this site (the source's count is ``imported_comments``)."""
        return max(0, self.num_comments - self.imported_comments)

    @property
    def featured_at(self) -> dt.datetime | None:
        """When it was featured: the submission time, else midnight (UTC) of its day."""
        if self.submitted_at is not None:
            return self.submitted_at
        if self.featured_on is not None:
            return dt.datetime.combine(self.featured_on, dt.time())
        return None

    @property
    def arxiv_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else None

    @property
    def pdf_url(self) -> str | None:
        return f"https://arxiv.org/pdf/{self.arxiv_id}" if self.arxiv_id else None


_CARD_COLUMNS = (
    Paper.id, Paper.key, Paper.arxiv_id, Paper.title, Paper.abstract, Paper.num_authors,
    Paper.published_at, Paper.upvotes, Paper.num_comments, Paper.imported_comments,
    Paper.github_repo, Paper.project_page, DailyEntry.day, DailyEntry.submitted_at, DailyEntry.submitted_by,
    Organization.id, Organization.handle, Organization.name,
    Organization.avatar_url, DailyEntry.submitter_fullname, DailyEntry.submitter_avatar_url,
    DailyEntry.estimated, Paper.ai_summary, Paper.ai_summary_model, Paper.ai_keywords,
    Paper.github_stars, Paper.media_urls, Paper.thumbnail,
)


def card_select() -> Select:  # type: ignore[type-arg]  # (the row type differs between SQLAlchemy 2.0 and 2.1)
    """The card columns of papers left-joined to their daily entry and organization.

    Callers add ``where``/``order_by``/``limit``; the result goes to ``fetch_cards``.
    """
    return (select(*_CARD_COLUMNS).select_from(Paper)
            .outerjoin(DailyEntry, DailyEntry.paper_id == Paper.id)
            .outerjoin(Organization, Organization.id == DailyEntry.organization_id))


# A card's authors as one JSON array per paper, ``[[position, id, name, user], ...]``, not one
# row per author: a 100-card page has ~1,100 authors, and turning that many rows into Python
# through SQLAlchemy's result was most of the page's query time (about 1 of 2.6 ms in-process,
# more than the SQL). SQLite (3.40 here) has no ORDER BY inside an aggregate, so the position
# travels with each author and ``_authors_of`` sorts; PostgreSQL orders in the aggregate, and
# its JSON is sent as text so that both databases are parsed by orjson.
_AUTHOR_ITEM = (PaperAuthor.position, Author.id, Author.name, PaperAuthor.user)
_AUTHORS_FROM = (PaperAuthor.__table__.join(Author.__table__, Author.id == PaperAuthor.author_id))
_IDS = PaperAuthor.paper_id.in_(bindparam("ids", expanding=True))
_AUTHORS_OF = {
    "sqlite": (select(PaperAuthor.paper_id, func.json_group_array(func.json_array(*_AUTHOR_ITEM)))
               .select_from(_AUTHORS_FROM).where(_IDS).group_by(PaperAuthor.paper_id)),
    "postgresql": (select(PaperAuthor.paper_id,
                          cast(func.json_agg(aggregate_order_by(func.json_build_array(*_AUTHOR_ITEM),
                                                                PaperAuthor.position)), Text))
                   .select_from(_AUTHORS_FROM).where(_IDS).group_by(PaperAuthor.paper_id)),
}


def _authors_of(db: Session, paper_ids: list[int]) -> dict[int, tuple[AuthorRef, ...]]:
    out: dict[int, tuple[AuthorRef, ...]] = dict.fromkeys(paper_ids, ())
    if not paper_ids:
        return out
    connection = db.connection()
    stmt = _AUTHORS_OF[connection.dialect.name]
    # Chunked so that a listing of any size stays under the bound-parameter limits.
    for start in range(0, len(paper_ids), 500):
        for pid, items in connection.execute(stmt, {"ids": paper_ids[start:start + 500]}).all():
            out[pid] = _parsed_authors(items)
    return out


@functools.lru_cache(maxsize=4096)
def _parsed_authors(items: str) -> tuple[AuthorRef, ...]:
    """The authors in one paper's JSON text, kept per worker keyed by that exact text.

    The text is what this request's own query just read, so a kept value can never be stale (an
    edited author list is a different text) and nothing needs invalidating, in any worker or
    database. Parsing ~1,100 authors into named tuples per 100-card page cost more than the SQL;
    a repeated author list is now one dictionary lookup, and its tuple is the same object each
    time, which also makes comparing cards (``web/rendering.CardBodies``' key) cheap. 4,096
    lists of about 1 KB each: a few MB per worker at most.
    """
    return tuple(AuthorRef(aid, name, user) for _, aid, name, user in sorted(orjson.loads(items)))


def fetch_cards(*, db: Session, stmt: Select,  # type: ignore[type-arg]
                params: Mapping[str, Any] | None = None) -> list[PaperCard]:
    """Run a ``card_select()`` statement (with the values of its bound parameters, if it has
    any) and attach author lists (one more query, one row per card), keeping its order.

    Both run as Core statements on the session's connection: the rows are plain columns, and
    the ORM's per-execution work (compile state, entity loading) was a third of a page's time.
    The listings read on every page view build their statement once, with ``bindparam``s for
    the values: building a 28-column select per request, and matching its new column objects
    to SQLAlchemy's cached compiled form, cost several times what running it did.
    """
    rows = db.connection().execute(stmt, params or {}).all()
    authors = _authors_of(db, [row[0] for row in rows])
    cards = []
    for (pid, key, arxiv_id, title, abstract, num_authors, published_at, upvotes, num_comments,
         imported_comments, github_repo, project_page, day, submitted_at, submitted_by, org_id, handle, org_name,
         org_avatar, submitter_fullname, submitter_avatar, estimated, ai_summary, ai_summary_model,
         ai_keywords, github_stars, media_urls, thumbnail) in rows:
        cards.append(PaperCard(
            id=pid, key=key, arxiv_id=arxiv_id, title=title, abstract=abstract or "",
            authors=authors[pid], num_authors=num_authors, published_at=published_at,
            upvotes=upvotes, num_comments=num_comments, imported_comments=imported_comments or 0,
            github_repo=github_repo,
            project_page=project_page, featured_on=day, submitted_at=submitted_at,
            submitted_by=submitted_by,
            organization=OrgRef(org_id, handle, org_name, org_avatar) if org_id is not None else None,
            submitter_fullname=submitter_fullname, submitter_avatar_url=submitter_avatar,
            featured_estimated=bool(estimated), ai_summary=ai_summary,
            ai_summary_model=ai_summary_model,
            ai_keywords=tuple(ai_keywords) if ai_keywords is not None else None,
            github_stars=github_stars,
            media_urls=tuple(media_urls) if media_urls is not None else None, thumbnail=thumbnail,
        ))
    return cards


_CARDS_BY_ID = card_select().where(Paper.id.in_(bindparam("ids", expanding=True)))
_CARD_BY_KEY = card_select().where(Paper.key == bindparam("key"))


def load_cards(*, db: Session, paper_ids: Sequence[int]) -> list[PaperCard]:
    """Cards of the given paper ids in the given order (unknown ids are skipped)."""
    found: dict[int, PaperCard] = {}
    ids = list(dict.fromkeys(paper_ids))
    for start in range(0, len(ids), 500):
        cards = fetch_cards(db=db, stmt=_CARDS_BY_ID, params={"ids": ids[start:start + 500]})
        found.update((card.id, card) for card in cards)
    return [found[pid] for pid in ids if pid in found]


def paper_key(raw: str) -> str:
    """The store key for an id as users write it: ``2401.01234v2`` / ``arXiv:2401.01234`` → ``2401.01234``."""
    match = ARXIV_ID.match(raw.strip())
    return match.group("id") if match else raw.strip()


def get_card(*, db: Session, paper_id: str) -> PaperCard | None:
    """The card of a paper by arXiv id (any version) or store key; ``None`` when there is none."""
    cards = fetch_cards(db=db, stmt=_CARD_BY_KEY, params={"key": paper_key(paper_id)})
    return cards[0] if cards else None


class CursorError(ValueError):
    """A pagination cursor that this server did not hand out."""


def _encode_cursor(card: PaperCard) -> str:
    when = card.published_at.isoformat() if card.published_at else ""
    return base64.urlsafe_b64encode(f"{when}|{card.id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime | None, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pid = text.split("|")
        paper_id = int(pid)
        if not 0 <= paper_id < 2**63:  # the cursor holds a 64-bit id; the driver rejects others
            raise ValueError("id out of range")
        return (dt.datetime.fromisoformat(when) if when else None), paper_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise CursorError(f"invalid cursor {cursor[:40]!r}") from exc


def list_cards(*, db: Session, cursor: str | None, limit: int) -> tuple[list[PaperCard], str | None]:
    """All papers, most recently published first (undated last), ``limit`` at a time.

    Returns the page and the cursor of the next one (``None`` on the last page). Keyset
    pagination: a page costs the same however deep it is. Raises ``CursorError``.
    """
    stmt = card_select().order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc())
    if cursor:
        when, pid = _decode_cursor(cursor)
        if when is None:
            stmt = stmt.where(and_(Paper.published_at.is_(None), Paper.id < pid))
        else:
            stmt = stmt.where(or_(Paper.published_at < when,
                                  and_(Paper.published_at == when, Paper.id < pid),
                                  Paper.published_at.is_(None)))
    cards = fetch_cards(db=db, stmt=stmt.limit(limit + 1))
    if len(cards) > limit:
        return cards[:limit], _encode_cursor(cards[limit - 1])
    return cards, None
