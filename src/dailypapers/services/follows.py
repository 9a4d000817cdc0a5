"""Follows: a member follows authors, organizations and saved searches.

An author is named by their exact name (as ``/authors/<name>``), an organization by its handle,
a saved search by the search page's query string, kept in one canonical form (known parameters
only, sorted, empty ones dropped; no sort and no page), so the same search followed from two
addresses is one follow. Following twice changes nothing (UNIQUE(user, target)); nothing here
commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dailypapers.services.errors import Invalid, NotFound
from dailypapers.services.papers import AuthorRef, OrgRef
from dailypapers.services.search import MODES, SearchFilters, SearchRequest
from dailypapers.store import Author, Follow, Organization
from dailypapers.store.base import utcnow
from dailypapers.store.bulk import insert_if_absent
from dailypapers.store.library import AUTHOR, ORGANIZATION, SEARCH

FollowKind = Literal["author", "org", "search"]
#: The search page's parameters that make a saved search (sort and page do not change what matches).
SEARCH_PARAMS = ("q", "mode", "org", "published_from", "published_to", "featured_from",
                 "featured_to", "has_code", "min_upvotes")
MAX_QUERY = 600


@dataclass(frozen=True)
class SavedSearch:
    id: int
    query: str  # canonical query string, e.g. "mode=keyword&q=sparse+attention"

    @property
    def label(self) -> str:
        params = dict(parse_qsl(self.query))
        words = params.pop("q", "") or "all papers"
        extra = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in params.items() if k != "mode")
        return f"{words} ({extra})" if extra else words

    @property
    def path(self) -> str:
        return f"/search?{self.query}"


@dataclass(frozen=True)
class Follows:
    """What a member follows, each list in the order they followed."""

    authors: list[AuthorRef]
    orgs: list[OrgRef]
    searches: list[SavedSearch]

    @property
    def empty(self) -> bool:
        return not (self.authors or self.orgs or self.searches)


def canonical_query(params: Mapping[str, str]) -> str:
    """The saved-search form of search parameters; ``Invalid`` when nothing is left to follow."""
    kept = {k: " ".join(str(params[k]).split()) for k in SEARCH_PARAMS if params.get(k)}
    if kept.get("mode") == "hybrid":
        del kept["mode"]  # the default
    if kept.get("mode") not in (None, *MODES):
        raise Invalid("unknown search mode")
    if not kept:
        raise Invalid("type some words or choose a filter before following a search")
    text = urlencode(sorted(kept.items()))
    if len(text) > MAX_QUERY:
        raise Invalid(f"a saved search has at most {MAX_QUERY} characters")
    return text


def search_request(query: str, *, per_page: int = 50) -> SearchRequest:
    """The search a saved search stands for, newest papers first (for the private feed)."""
    params = dict(parse_qsl(query))

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(params[name]) if params.get(name) else None
        except ValueError:
            return None

    upvotes = params.get("min_upvotes", "")
    filters = SearchFilters(
        published_from=day("published_from"), published_to=day("published_to"),
        featured_from=day("featured_from"), featured_to=day("featured_to"),
        organization=params.get("org") or None,
        has_code={"true": True, "false": False}.get(params.get("has_code", "").lower()),
        min_upvotes=int(upvotes) if upvotes.isdigit() else None)
    mode = params.get("mode", "hybrid")
    return SearchRequest(q=params.get("q", ""), filters=filters, sort="newest",
                         mode=mode if mode in MODES else "hybrid", per_page=per_page)


def _target(db: Session, kind: str, target: str) -> tuple[str, dict[str, object]]:
    """The follow's unique ``target`` text and its columns; ``NotFound`` for an unknown one."""
    if kind == AUTHOR:
        aid = db.scalar(select(Author.id).where(Author.name == target))
        if aid is None:
            raise NotFound(f"no author {target[:80]!r}")
        return f"author:{aid}", {"author_id": aid}
    if kind == ORGANIZATION:
        oid = db.scalar(select(Organization.id).where(Organization.handle == target))
        if oid is None:
            raise NotFound(f"no organization {target[:80]!r}")
        return f"org:{oid}", {"organization_id": oid}
    if kind == SEARCH:
        query = canonical_query(dict(parse_qsl(target)))
        return f"search:{query}", {"query": query}
    raise Invalid("one follows an author, an organization or a search")


def follow(*, db: Session, user_id: int, kind: FollowKind, target: str) -> bool:
    """Follow an author (by name), an organization (by handle) or a search (its query string);
    whether it is a new follow."""
    text, columns = _target(db, kind, target)
    values = {"user_id": user_id, "kind": kind, "target": text, "author_id": None,
              "organization_id": None, "query": None, "created_at": utcnow(), **columns}
    return insert_if_absent(db=db, table=Follow.__table__, values=values)


def unfollow(*, db: Session, user_id: int, kind: FollowKind, target: str) -> None:
    """Stop following (no-op when not following)."""
    text, _ = _target(db, kind, target)
    db.execute(delete(Follow).where(Follow.user_id == user_id, Follow.target == text))


def is_following(*, db: Session, user_id: int, kind: FollowKind, target: str) -> bool:
    try:
        text, _ = _target(db, kind, target)
    except (NotFound, Invalid):
        return False
    return db.scalar(select(Follow.id).where(Follow.user_id == user_id, Follow.target == text)) is not None


def follows_of(*, db: Session, user_id: int) -> Follows:
    """Every author, organization and saved search the member follows (one query)."""
    rows = db.execute(
        select(Follow.id, Follow.kind, Author.id, Author.name, Organization.id, Organization.handle,
               Organization.name, Organization.avatar_url, Follow.query)
        .outerjoin(Author, Author.id == Follow.author_id)
        .outerjoin(Organization, Organization.id == Follow.organization_id)
        .where(Follow.user_id == user_id).order_by(Follow.created_at, Follow.id)).all()
    authors = [AuthorRef(r[2], r[3]) for r in rows if r[1] == AUTHOR and r[2] is not None]
    orgs = [OrgRef(r[4], r[5], r[6], r[7]) for r in rows if r[1] == ORGANIZATION and r[4] is not None]
    searches = [SavedSearch(r[0], r[8]) for r in rows if r[1] == SEARCH and r[8]]
    return Follows(authors=authors, orgs=orgs, searches=searches)


@dataclass(frozen=True)
class FollowBox:
    """A follow button: what it follows (``kind``, ``target`` as the form sends it) and whether
    the viewer already does."""

    kind: str
    target: str
    label: str
    following: bool


def follow_box(*, db: Session, user_id: int | None, kind: FollowKind, target: str,
               label: str) -> FollowBox:
    following = user_id is not None and is_following(db=db, user_id=user_id, kind=kind, target=target)
    return FollowBox(kind=kind, target=target, label=label, following=following)
