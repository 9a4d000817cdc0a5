"""A member's library: saving papers to collections, marking them read, a private note per paper.

A paper is *in the library* when ``paper_states.saved_at`` is set; it is then in at least one of
the member's collections (the default collection, ``Saved``, when none was named). Saving puts
the paper in a collection and sets ``saved_at`` once; removing it from its last collection (or
``unsave_paper`` without a collection) clears it. Read marks and notes live on the same row and
outlive unsaving. Collections and their pages are in ``services/collections.py``.

Races are decided by the unique keys (``INSERT … ON CONFLICT DO NOTHING``), so two tabs saving
the same paper at once end with one item and one state row. Nothing here commits: the caller's
``with db.begin():`` is the use case's one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.orm import Session

from dailypapers.services.errors import Invalid, NotFound
from dailypapers.services.papers import paper_key as store_key
from dailypapers.store import Collection, CollectionItem, Paper, PaperState
from dailypapers.store.base import utcnow
from dailypapers.store.bulk import insert_if_absent
from dailypapers.store.library import PRIVATE

DEFAULT_COLLECTION = "Saved"
MAX_NAME = 100
MAX_NOTE = 10_000

#: A collection as callers name it: its id (one of the member's), its name (made when new), or
#: ``None`` for the default collection.
CollectionRef = int | str | None


@dataclass(frozen=True)
class PaperMark:
    """One member's state of one paper, as the save box, read toggle and note form show it."""

    id: int
    key: str
    saved: bool
    read: bool
    note: str
    collection_ids: tuple[int, ...]


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise Invalid("a collection needs a name")
    if len(text) > MAX_NAME:
        raise Invalid(f"a collection name has at most {MAX_NAME} characters")
    return text


def new_share_token() -> str:
    return secrets.token_urlsafe(24)


def paper_id_of(db: Session, paper_key: str) -> int:
    """The paper's id by key or arXiv id (any version); ``NotFound`` when there is none."""
    pid = db.scalar(select(Paper.id).where(Paper.key == store_key(paper_key)))
    if pid is None:
        raise NotFound(f"no paper {paper_key[:80]!r}")
    return pid


def ensure_collection(*, db: Session, user_id: int, name: str, visibility: str = PRIVATE,
                      description: str = "") -> int:
    """The id of the member's collection called ``name`` (any case), made when there is none."""
    text = clean_name(name)
    key = name_key(text)
    now = utcnow()
    insert_if_absent(db=db, table=Collection.__table__, values={
        "user_id": user_id, "name": text, "name_key": key, "description": description,
        "visibility": visibility, "share_token": None,
        "is_default": key == name_key(DEFAULT_COLLECTION), "created_at": now, "updated_at": now})
    cid = db.scalar(select(Collection.id).where(Collection.user_id == user_id,
                                                Collection.name_key == key))
    assert cid is not None  # inserted above, or there already
    return cid


def collection_id_of(*, db: Session, user_id: int, collection: CollectionRef) -> int:
    """Resolve a ``CollectionRef``: an id must be one of the member's own collections."""
    if collection is None:
        return ensure_collection(db=db, user_id=user_id, name=DEFAULT_COLLECTION)
    if isinstance(collection, str):
        return ensure_collection(db=db, user_id=user_id, name=collection)
    cid = db.scalar(select(Collection.id).where(Collection.id == collection,
                                                Collection.user_id == user_id))
    if cid is None:
        raise NotFound("no such collection of yours")
    return cid


def _state_row(db: Session, user_id: int, paper_id: int) -> None:
    now = utcnow()
    insert_if_absent(db=db, table=PaperState.__table__, values={
        "user_id": user_id, "paper_id": paper_id, "saved_at": None, "read_at": None, "note": "",
        "updated_at": now})


def add_to_collection(*, db: Session, user_id: int, collection_id: int,
                      paper_ids: Sequence[int]) -> int:
    """Put papers (ids known to exist) into one of the member's collections and their library;
    returns how many were new to the collection."""
    now = utcnow()
    added = 0
    for pid in dict.fromkeys(paper_ids):
        if insert_if_absent(db=db, table=CollectionItem.__table__, values={
                "collection_id": collection_id, "paper_id": pid, "added_at": now}):
            added += 1
        _state_row(db, user_id, pid)
        db.execute(update(PaperState)
                   .where(PaperState.user_id == user_id, PaperState.paper_id == pid,
                          PaperState.saved_at.is_(None))
                   .values(saved_at=now, updated_at=now))
    if added:
        db.execute(update(Collection).where(Collection.id == collection_id).values(updated_at=now))
    return added


def save_paper(*, db: Session, user_id: int, paper_key: str,
               collection: CollectionRef = None) -> PaperMark:
    """Save a paper to a collection (default: ``Saved``); saving it again changes nothing."""
    pid = paper_id_of(db, paper_key)
    cid = collection_id_of(db=db, user_id=user_id, collection=collection)
    add_to_collection(db=db, user_id=user_id, collection_id=cid, paper_ids=[pid])
    return mark_of(db=db, user_id=user_id, paper_id=pid)


def unsave_paper(*, db: Session, user_id: int, paper_key: str,
                 collection: CollectionRef = None) -> PaperMark:
    """Take a paper out of one collection, or (``collection=None``) out of the whole library.

    A paper that is in none of the member's collections any more leaves the library; its read
    mark and note stay."""
    pid = paper_id_of(db, paper_key)
    mine = select(Collection.id).where(Collection.user_id == user_id)
    if collection is None:
        db.execute(delete(CollectionItem).where(CollectionItem.paper_id == pid,
                                                CollectionItem.collection_id.in_(mine)))
    else:
        cid = collection_id_of(db=db, user_id=user_id, collection=collection)
        db.execute(delete(CollectionItem).where(CollectionItem.paper_id == pid,
                                                CollectionItem.collection_id == cid))
    still = db.scalar(select(exists().where(CollectionItem.paper_id == pid,
                                            CollectionItem.collection_id.in_(mine))))
    if not still:
        db.execute(update(PaperState).where(PaperState.user_id == user_id, PaperState.paper_id == pid)
                   .values(saved_at=None, updated_at=utcnow()))
    return mark_of(db=db, user_id=user_id, paper_id=pid)


def mark_read(*, db: Session, user_id: int, paper_key: str, read: bool = True) -> PaperMark:
    """Mark a paper read (or unread again); it need not be saved."""
    pid = paper_id_of(db, paper_key)
    _state_row(db, user_id, pid)
    now = utcnow()
    db.execute(update(PaperState).where(PaperState.user_id == user_id, PaperState.paper_id == pid)
               .values(read_at=now if read else None, updated_at=now))
    return mark_of(db=db, user_id=user_id, paper_id=pid)


def set_note(*, db: Session, user_id: int, paper_key: str, note: str) -> PaperMark:
    """Keep a private note on a paper (an empty note removes it); only its author ever sees it."""
    text = note.replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTE:
        raise Invalid(f"a note has at most {MAX_NOTE} characters")
    pid = paper_id_of(db, paper_key)
    _state_row(db, user_id, pid)
    db.execute(update(PaperState).where(PaperState.user_id == user_id, PaperState.paper_id == pid)
               .values(note=text, updated_at=utcnow()))
    return mark_of(db=db, user_id=user_id, paper_id=pid)


# Read on every signed-in paper page: built once with bind parameters (a select built per view,
# and matched to SQLAlchemy's compiled cache, cost more than running it).
_KEY_OF = select(Paper.key).where(Paper.id == bindparam("paper_id"))
_STATE_OF = select(PaperState.saved_at, PaperState.read_at, PaperState.note).where(
    PaperState.user_id == bindparam("user_id"), PaperState.paper_id == bindparam("paper_id"))
_COLLECTIONS_HOLDING = (select(CollectionItem.collection_id)
                        .join(Collection, Collection.id == CollectionItem.collection_id)
                        .where(Collection.user_id == bindparam("user_id"),
                               CollectionItem.paper_id == bindparam("paper_id"))
                        .order_by(CollectionItem.collection_id))


def mark_of(*, db: Session, user_id: int, paper_id: int) -> PaperMark:
    """The member's state of one paper (three indexed queries)."""
    ids = {"user_id": user_id, "paper_id": paper_id}
    key = db.scalar(_KEY_OF, ids)
    if key is None:
        raise NotFound("no such paper")
    state = db.execute(_STATE_OF, ids).first()
    cids = db.scalars(_COLLECTIONS_HOLDING, ids).all()
    if state is None:
        return PaperMark(id=paper_id, key=key, saved=False, read=False, note="", collection_ids=())
    return PaperMark(id=paper_id, key=key, saved=state.saved_at is not None,
                     read=state.read_at is not None, note=state.note or "",
                     collection_ids=tuple(cids))


def paper_mark(*, db: Session, user_id: int, paper_key: str) -> PaperMark:
    return mark_of(db=db, user_id=user_id, paper_id=paper_id_of(db, paper_key))


def saved_paper_ids(*, db: Session, user_id: int) -> list[int]:
    """Every paper in the member's library, most recently saved first."""
    return list(db.scalars(select(PaperState.paper_id)
                           .where(PaperState.user_id == user_id, PaperState.saved_at.is_not(None))
                           .order_by(PaperState.saved_at.desc(), PaperState.paper_id.desc())))


def saved_among(*, db: Session, user_id: int, paper_ids: Iterable[int]) -> set[int]:
    """Which of ``paper_ids`` are in the member's library: one query for a page of cards."""
    ids = list(set(paper_ids))
    if not ids:
        return set()
    return set(db.connection().execute(_SAVED_AMONG, {"user_id": user_id, "ids": ids}).scalars())


# Built once: it runs on every page of cards a member views.
_SAVED_AMONG = select(PaperState.paper_id).where(
    PaperState.user_id == bindparam("user_id"), PaperState.paper_id.in_(bindparam("ids", expanding=True)),
    PaperState.saved_at.is_not(None))


def read_paper_ids(*, db: Session, user_id: int) -> set[int]:
    """Every paper the member marked read (saved or not)."""
    return set(db.scalars(select(PaperState.paper_id).where(
        PaperState.user_id == user_id, PaperState.read_at.is_not(None))))
