"""Collections as pages: a member's library and collections, shared and public collections.

Who may see a collection: its owner always; anyone with its share link (``/c/<token>``) when it
is shared by link or public; everyone, listed on ``/collections``, when it is public. A private
collection answers 404 to anyone else (not 403: its existence is private too). Sharing by link
draws a new unguessable token each time it is (re)shared, so an old link can be cut off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from dailypapers.services.errors import Conflict, Invalid, NotFound
from dailypapers.services.library import (
    DEFAULT_COLLECTION,
    PaperMark,
    clean_name,
    ensure_collection,
    name_key,
    mark_of,
    new_share_token,
)
from dailypapers.services.papers import PaperCard, card_select, fetch_cards
from dailypapers.store import Collection, CollectionItem, Paper, PaperState, User
from dailypapers.store.base import utcnow
from dailypapers.store.library import LINK, PRIVATE, PUBLIC, VISIBILITIES

MAX_DESCRIPTION = 2000
#: A collection page lists its first this many papers (exports too).
PAGE_MAX = 1000


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str
    description: str
    visibility: str
    share_token: str | None
    is_default: bool
    count: int
    owner: str
    updated_at: dt.datetime

    @property
    def share_path(self) -> str | None:
        """The collection's share link (path) when it may be read by link."""
        return f"/c/{self.share_token}" if self.share_token and self.visibility != PRIVATE else None


@dataclass(frozen=True)
class LibraryEntry:
    """A paper in a member's list, with their own state of it."""

    card: PaperCard
    read: bool
    note: str


@dataclass(frozen=True)
class CollectionView:
    info: CollectionInfo
    entries: list[LibraryEntry]
    is_owner: bool

    @property
    def cards(self) -> list[PaperCard]:
        return [entry.card for entry in self.entries]


@dataclass(frozen=True)
class PaperPanel:
    """The paper page's library panel: the member's state of the paper and their collections."""

    mark: PaperMark
    collections: list[CollectionInfo]


@dataclass(frozen=True)
class LibraryView:
    collections: list[CollectionInfo]
    entries: list[LibraryEntry]
    unread_only: bool


def _infos_select(where: object) -> Select:  # type: ignore[type-arg]
    counts = (select(CollectionItem.collection_id, func.count().label("n"))
              .group_by(CollectionItem.collection_id).subquery())
    return (select(Collection.id, Collection.name, Collection.description, Collection.visibility,
                   Collection.share_token, Collection.is_default, func.coalesce(counts.c.n, 0),
                   User.username, Collection.updated_at)
            .join(User, User.id == Collection.user_id)
            .outerjoin(counts, counts.c.collection_id == Collection.id)
            .where(where)  # type: ignore[arg-type]
            .order_by(Collection.is_default.desc(), Collection.name_key))


def _infos(db: Session, where: object, *, limit: int | None = None) -> list[CollectionInfo]:
    stmt = _infos_select(where)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [CollectionInfo(*row) for row in db.execute(stmt)]


# Read on every signed-in paper page: built once with a bind parameter (building this select with
# its subquery per view, and matching it to SQLAlchemy's compiled cache, cost more than running it).
_COLLECTIONS_OF = _infos_select(Collection.user_id == bindparam("user_id"))


def collections_of(*, db: Session, user_id: int) -> list[CollectionInfo]:
    """The member's collections, ``Saved`` first, then by name."""
    return [CollectionInfo(*row) for row in db.execute(_COLLECTIONS_OF, {"user_id": user_id})]


def paper_panel(*, db: Session, user_id: int, paper_id: int,
                mark: PaperMark | None = None) -> PaperPanel:
    """The library panel of one paper for one member (``mark`` when the caller has it already)."""
    return PaperPanel(mark=mark or mark_of(db=db, user_id=user_id, paper_id=paper_id),
                      collections=collections_of(db=db, user_id=user_id))


def public_collections(*, db: Session, limit: int = 200) -> list[CollectionInfo]:
    return _infos(db, Collection.visibility == PUBLIC, limit=limit)


def _check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise Invalid("a collection is private, shared by link, or public")
    return visibility


def create_collection(*, db: Session, user_id: int, name: str, description: str = "",
                      visibility: str = PRIVATE) -> int:
    """A new collection (private unless said otherwise); a name the member already uses is a
    conflict."""
    text = clean_name(name)
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"a description has at most {MAX_DESCRIPTION} characters")
    _check_visibility(visibility)
    if db.scalar(select(Collection.id).where(Collection.user_id == user_id,
                                             Collection.name_key == name_key(text))) is not None:
        raise Conflict(f"you already have a collection called {text!r}")
    cid = ensure_collection(db=db, user_id=user_id, name=text, description=description.strip())
    if visibility != PRIVATE:
        set_visibility(db=db, user_id=user_id, collection_id=cid, visibility=visibility)
    return cid


def _owned(db: Session, user_id: int, collection_id: int) -> Collection:
    collection = db.scalar(select(Collection).where(Collection.id == collection_id,
                                                    Collection.user_id == user_id))
    if collection is None:
        raise NotFound("no such collection of yours")
    return collection


def set_visibility(*, db: Session, user_id: int, collection_id: int, visibility: str) -> None:
    """Make a collection private, shared by link, or public. Sharing a collection that has no
    link yet draws one; making it private keeps nothing readable by the old link."""
    collection = _owned(db, user_id, collection_id)
    _check_visibility(visibility)
    token = collection.share_token
    if visibility == PRIVATE:
        token = None
    elif token is None:
        token = new_share_token()
    db.execute(update(Collection).where(Collection.id == collection.id)
               .values(visibility=visibility, share_token=token, updated_at=utcnow()))


def new_share_link(*, db: Session, user_id: int, collection_id: int) -> None:
    """A new share link for a shared collection: the old link stops working."""
    collection = _owned(db, user_id, collection_id)
    if collection.visibility == PRIVATE:
        raise Invalid("share the collection first")
    db.execute(update(Collection).where(Collection.id == collection.id)
               .values(share_token=new_share_token(), updated_at=utcnow()))


def rename_collection(*, db: Session, user_id: int, collection_id: int, name: str,
                      description: str) -> None:
    collection = _owned(db, user_id, collection_id)
    text = clean_name(name)
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"a description has at most {MAX_DESCRIPTION} characters")
    if collection.is_default and name_key(text) != name_key(DEFAULT_COLLECTION):
        raise Invalid(f"the {DEFAULT_COLLECTION!r} collection keeps its name")
    clash = db.scalar(select(Collection.id).where(Collection.user_id == user_id,
                                                  Collection.name_key == name_key(text),
                                                  Collection.id != collection.id))
    if clash is not None:
        raise Conflict(f"you already have a collection called {text!r}")
    db.execute(update(Collection).where(Collection.id == collection.id).values(
        name=text, name_key=name_key(text), description=description.strip(), updated_at=utcnow()))


def delete_collection(*, db: Session, user_id: int, collection_id: int) -> None:
    """Delete a collection (not ``Saved``); its papers that are in no other collection of the
    member's leave their library."""
    collection = _owned(db, user_id, collection_id)
    if collection.is_default:
        raise Invalid(f"the {DEFAULT_COLLECTION!r} collection cannot be deleted")
    pids = list(db.scalars(select(CollectionItem.paper_id)
                           .where(CollectionItem.collection_id == collection.id)))
    db.execute(delete(Collection).where(Collection.id == collection.id))
    if pids:
        still = set(db.scalars(select(CollectionItem.paper_id)
                               .join(Collection, Collection.id == CollectionItem.collection_id)
                               .where(Collection.user_id == user_id,
                                      CollectionItem.paper_id.in_(pids))))
        gone = [pid for pid in pids if pid not in still]
        if gone:
            db.execute(update(PaperState).where(PaperState.user_id == user_id,
                                                PaperState.paper_id.in_(gone))
                       .values(saved_at=None, updated_at=utcnow()))


def _entries(db: Session, user_id: int, stmt: object, *, with_state: bool) -> list[LibraryEntry]:
    cards = fetch_cards(db=db, stmt=stmt)  # type: ignore[arg-type]
    states: dict[int, tuple[bool, str]] = {}
    if with_state and cards:
        rows = db.execute(select(PaperState.paper_id, PaperState.read_at, PaperState.note)
                          .where(PaperState.user_id == user_id,
                                 PaperState.paper_id.in_([c.id for c in cards])))
        states = {pid: (read_at is not None, note or "") for pid, read_at, note in rows}
    return [LibraryEntry(card=card, read=states.get(card.id, (False, ""))[0],
                         note=states.get(card.id, (False, ""))[1]) for card in cards]


def _view(db: Session, info: CollectionInfo, viewer_id: int | None, owner_id: int) -> CollectionView:
    is_owner = viewer_id == owner_id
    stmt = (card_select().join(CollectionItem, CollectionItem.paper_id == Paper.id)
            .where(CollectionItem.collection_id == info.id)
            .order_by(CollectionItem.added_at.desc(), CollectionItem.id.desc()).limit(PAGE_MAX))
    # Only the owner sees their read marks and notes, even on their public collection.
    return CollectionView(info=info, entries=_entries(db, owner_id, stmt, with_state=is_owner),
                          is_owner=is_owner)


def collection_view(*, db: Session, collection_id: int, viewer_id: int | None) -> CollectionView:
    """A collection for its owner, or for anyone when public; else ``NotFound``."""
    owner_id = db.scalar(select(Collection.user_id).where(Collection.id == collection_id))
    infos = _infos(db, Collection.id == collection_id)
    if owner_id is None or not infos or (viewer_id != owner_id and infos[0].visibility != PUBLIC):
        raise NotFound("no such collection")
    return _view(db, infos[0], viewer_id, owner_id)


def shared_collection(*, db: Session, token: str, viewer_id: int | None) -> CollectionView:
    """A collection by its share link, while it is shared by link or public."""
    row = db.execute(select(Collection.id, Collection.user_id).where(
        Collection.share_token == token, Collection.visibility.in_((LINK, PUBLIC)))).first()
    if row is None or len(token) > 64:
        raise NotFound("this link does not open any collection (it may have been unshared)")
    return _view(db, _infos(db, Collection.id == row.id)[0], viewer_id, row.user_id)


def library_view(*, db: Session, user_id: int, unread_only: bool = False) -> LibraryView:
    """Every paper in the member's library, most recently saved first, with their state."""
    stmt = (card_select().join(PaperState, PaperState.paper_id == Paper.id)
            .where(PaperState.user_id == user_id, PaperState.saved_at.is_not(None))
            .order_by(PaperState.saved_at.desc(), Paper.id.desc()).limit(PAGE_MAX))
    if unread_only:
        stmt = stmt.where(PaperState.read_at.is_(None))
    return LibraryView(collections=collections_of(db=db, user_id=user_id),
                       entries=_entries(db, user_id, stmt, with_state=True), unread_only=unread_only)
