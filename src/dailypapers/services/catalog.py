"""The paper catalog: idempotent, batched upserts of ``PaperRecord``s, and reading them back out.

Writes go through SQLAlchemy Core in batches (one transaction per batch) because the ORM unit of
work is ~10x slower for 100k-paper imports; new rows and lookups by many values go through
``store.bulk`` (COPY and ``= ANY(array)`` on PostgreSQL). Reads for pages use the ORM models.
The entry points that import records (``import_records``, ``upsert_records``) are in
``services.catalog_import``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from dailypapers.sources.records import (
    PaperRecord,
    Rejected,
    is_older_version,
    merge_records,
    normalize_title,
    seed_key,
)
from dailypapers.store import Author, DailyEntry, Organization, Paper, PaperAuthor
from dailypapers.store.base import Base, utcnow
from dailypapers.store.bulk import insert_rows, matches

PAPER_FIELDS = (
    "key", "arxiv_id", "version", "title", "title_key", "abstract", "num_authors", "categories",
    "published_at", "updated_at", "withdrawn_at", "github_repo", "project_page",
    "ai_summary", "ai_summary_model", "ai_keywords", "github_stars", "media_urls", "thumbnail",
)
#: The columns of a new paper row (``new_paper_values``); ``created_at`` and ``modified_at`` follow.
NEW_PAPER_COLUMNS = (*PAPER_FIELDS, "imported_upvotes", "upvotes", "imported_comments", "num_comments")
# Fields only some sources state (HF's extras): what a record says wins, silence keeps the stored value.
_OPTIONAL_FIELDS = ("ai_summary", "ai_summary_model", "ai_keywords", "github_stars", "media_urls",
                    "thumbnail")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.rejected)} rejected")


ProgressFn = Callable[[int], None]


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _merged(existing: dict[str, Any] | None, rec: PaperRecord,
            title_key: Callable[[str], str] = normalize_title) -> dict[str, Any]:
    """Field values after applying ``rec`` over ``existing``: what the source says wins, silence keeps."""
    old = existing or {}
    arxiv_id = rec.arxiv_id or old.get("arxiv_id")
    key = arxiv_id or old.get("key") or rec.key or seed_key(rec.title)
    num_authors = len(rec.authors) if rec.authors else rec.num_authors
    versions = [v for v in (old.get("version"), rec.version) if v is not None]
    values = {
        "key": key,
        "arxiv_id": arxiv_id,
        "version": max(versions) if versions else None,
        "title": rec.title or old.get("title", ""),
        "title_key": title_key(rec.title or old.get("title", "")),
        "abstract": rec.abstract or old.get("abstract", ""),
        "num_authors": num_authors if num_authors is not None else old.get("num_authors"),
        "categories": rec.categories or old.get("categories") or [],
        "published_at": rec.published_at or old.get("published_at"),
        "updated_at": rec.updated_at or old.get("updated_at"),
        "withdrawn_at": rec.withdrawn_at or old.get("withdrawn_at"),
        "github_repo": rec.github_repo or old.get("github_repo"),
        "project_page": rec.project_page or old.get("project_page"),
    }
    for name in _OPTIONAL_FIELDS:
        value = getattr(rec, name)
        values[name] = old.get(name) if value is None or value in ("", []) else value
    if is_older_version(rec, old.get("version")):
        # An earlier arXiv version only fills gaps: the stored later version keeps its metadata.
        for name, value in old.items():
            if name in values and value not in (None, "", []):
                values[name] = value
    return values


def new_paper_values(rec: PaperRecord, title_key: str) -> list[Any]:
    """The values (``NEW_PAPER_COLUMNS`` order) of the row a record creates when no stored paper matches."""
    values = _merged(None, rec, lambda _title: title_key)
    return [*(values[name] for name in PAPER_FIELDS), rec.upvotes or 0, rec.upvotes or 0,
            rec.num_comments or 0, rec.num_comments or 0]


class Batch:
    """State for upserting one batch inside one transaction: the stored papers it may touch."""

    def __init__(self, db: Session, records: list[PaperRecord], title_keys: dict[str, str] | None = None) -> None:
        self.db = db
        self.records = records
        self.by_arxiv: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, dict[str, Any]] = {}
        self.by_title: dict[str, dict[str, Any]] = {}
        self._title_keys: dict[str, str] = title_keys if title_keys is not None else {}

    def title_key(self, title: str) -> str:
        """``normalize_title``, computed once per distinct title in the batch."""
        key = self._title_keys.get(title)
        if key is None:
            key = self._title_keys[title] = normalize_title(title)
        return key

    def load_existing(self) -> None:
        cols = [Paper.__table__.c[name] for name in ("id", *PAPER_FIELDS, "imported_upvotes",
                                                      "imported_comments")]
        arxiv_ids = {r.arxiv_id for r in self.records if r.arxiv_id}
        keys = {r.public_key() for r in self.records}
        titles = {self.title_key(r.title) for r in self.records}
        conds = [matches(self.db, Paper.arxiv_id, arxiv_ids), matches(self.db, Paper.key, keys),
                 matches(self.db, Paper.title_key, titles)]
        for cond in conds:
            for row in self.db.execute(select(*cols).where(cond)).mappings():
                self._remember(dict(row))

    def _remember(self, row: dict[str, Any]) -> None:
        if row.get("arxiv_id"):
            self.by_arxiv[row["arxiv_id"]] = row
        self.by_key[row["key"]] = row
        self.by_title.setdefault(row["title_key"], row)

    def match(self, rec: PaperRecord) -> dict[str, Any] | None:
        if rec.arxiv_id and rec.arxiv_id in self.by_arxiv:
            return self.by_arxiv[rec.arxiv_id]
        if (found := self.by_key.get(rec.public_key())) is not None:
            return found
        candidate = self.by_title.get(self.title_key(rec.title))
        # Merge by title only when one side has no arXiv id (a seed card meeting its arXiv record).
        if candidate is not None and (not rec.arxiv_id or not candidate.get("arxiv_id")):
            return candidate
        return None


def _table(model: type[Base]) -> Table:
    """A model's Core table: batch writes go through Core, skipping the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


def ids_by(db: Session, column: Any, id_column: Any, values: Iterable[Any]) -> dict[Any, int]:
    """``{value: id}`` for rows whose ``column`` is in ``values`` (queried in chunks)."""
    ids: dict[Any, int] = {}
    for chunk in batches(values, 500):
        rows = db.execute(select(column, id_column).where(matches(db, column, chunk)))
        ids.update(cast(Iterator[tuple[Any, int]], iter(rows)))  # iter(): a Result has keys()
    return ids


def author_ids(db: Session, names: set[str]) -> dict[str, int]:
    ids = ids_by(db, Author.name, Author.id, sorted(names))
    missing = [n for n in sorted(names) if n not in ids]
    if missing:
        insert_rows(db=db, table=_table(Author), rows=[{"name": n} for n in missing])
        ids.update(ids_by(db, Author.name, Author.id, missing))
    return ids


def _org_ids(db: Session, records: list[PaperRecord]) -> dict[str, int]:
    wanted = {r.organization.handle: r.organization for r in records if r.organization}
    if not wanted:
        return {}
    existing = {h: (i, n, a) for h, i, n, a in db.execute(
        select(Organization.handle, Organization.id, Organization.name, Organization.avatar_url)
        .where(Organization.handle.in_(wanted)))}
    for handle, org in wanted.items():
        if handle not in existing:
            new_id = db.execute(insert(Organization).values(
                handle=handle, name=org.name, avatar_url=org.avatar_url, created_at=utcnow())
                .returning(Organization.id)).scalar_one()
            existing[handle] = (new_id, org.name, org.avatar_url)
            continue
        avatar = org.avatar_url or existing[handle][2]
        if existing[handle][1:] != (org.name, avatar):
            db.execute(update(Organization).where(Organization.handle == handle)
                       .values(name=org.name, avatar_url=avatar))
    return {h: v[0] for h, v in existing.items()}


def _current_authors(db: Session, paper_ids: list[int]) -> dict[int, list[tuple[str, str | None]]]:
    """``{paper id: [(name, user), ...]}`` in printed order."""
    out: dict[int, list[tuple[str, str | None]]] = {pid: [] for pid in paper_ids}
    for chunk in batches(paper_ids, 500):
        rows = db.execute(select(PaperAuthor.paper_id, Author.name, PaperAuthor.user).join(Author)
                          .where(matches(db, PaperAuthor.paper_id, chunk)).order_by(PaperAuthor.paper_id,
                                                                           PaperAuthor.position))
        for pid, name, user in rows:
            out[pid].append((name, user))
    return out


def _author_list(rec: PaperRecord, current: list[tuple[str, str | None]] | None = None,
                 ) -> list[tuple[str, str | None]]:
    """The record's authors with their HF user names; a record that names no users keeps the
    users already stored for the same names."""
    if rec.author_users and len(rec.author_users) == len(rec.authors):
        return list(zip(rec.authors, rec.author_users, strict=True))
    if current is not None and [name for name, _ in current] == rec.authors:
        return current
    return [(name, None) for name in rec.authors]


def upsert_batch(db: Session, records: list[PaperRecord], result: ImportResult,
                 title_keys: dict[str, str] | None = None) -> None:
    """Upsert one batch of records in the session's transaction, counting into ``result``."""
    batch = Batch(db, records, title_keys)
    batch.load_existing()
    # Fold records of the same paper first, so a batch holding a paper twice writes it once.
    groups: dict[int, tuple[dict[str, Any] | None, PaperRecord]] = {}
    for rec in records:
        row = batch.match(rec)
        if row is None:
            row = {"id": None, "key": rec.public_key(), "arxiv_id": rec.arxiv_id,
                   "title_key": batch.title_key(rec.title)}
            batch._remember(row)
            groups[id(row)] = (None, rec)
        elif id(row) in groups:
            existing, folded = groups[id(row)]
            groups[id(row)] = (existing, merge_records(folded, rec))
        else:
            groups[id(row)] = (row, rec)
    new_rows: list[dict[str, Any]] = []
    new_records: list[PaperRecord] = []
    changed: list[tuple[dict[str, Any], dict[str, Any], PaperRecord]] = []
    matched: list[tuple[dict[str, Any], PaperRecord]] = []
    for existing, rec in groups.values():
        if existing is None:
            now = utcnow()
            new_rows.append({**dict(zip(NEW_PAPER_COLUMNS, new_paper_values(rec, batch.title_key(rec.title)),
                                        strict=True)), "created_at": now, "modified_at": now})
            new_records.append(rec)
            continue
        values = _merged(existing, rec, batch.title_key)
        if is_older_version(rec, existing.get("version")):
            rec = replace(rec, authors=[])  # the later version's author list stands
        matched.append((existing, rec))
        differs = any(existing.get(k) != v for k, v in values.items())
        counts_differ = (rec.upvotes is not None and rec.upvotes != existing["imported_upvotes"]) or (
            rec.num_comments is not None and rec.num_comments != existing["imported_comments"])
        if differs or counts_differ:
            changed.append((existing, values, rec))
        existing.update(values)
    ids: list[int] = []
    if new_rows:
        # Plain executemany (COPY on PostgreSQL) then one lookup by key: INSERT … RETURNING with parameter order kept
        # costs ~20x more on SQLite (insertmanyvalues splices every sub-batch's rows).
        insert_rows(db=db, table=_table(Paper), rows=new_rows)
        by_key = ids_by(db, Paper.key, Paper.id, [row["key"] for row in new_rows])
        for row in new_rows:
            row["id"] = by_key[row["key"]]
        ids = [row["id"] for row in new_rows]
    if changed:
        _apply_updates(db, changed)
    touched_authors = _sync_authors(db, list(zip(ids, new_records, strict=True)), matched)
    touched_entries = _sync_entries(db, [(row, rec) for row, rec in
                                         zip(_rows(groups, new_rows), (g[1] for g in groups.values()), strict=True)])
    changed_ids = {existing["id"] for existing, _, _ in changed} | touched_authors | touched_entries
    matched_ids = {existing["id"] for existing, _ in matched if existing.get("id")}
    if touched_authors or touched_entries:
        db.execute(update(Paper).where(Paper.id.in_(touched_authors | touched_entries))
                   .values(modified_at=utcnow()))
    result.created += len(set(ids))
    result.updated += len(changed_ids & matched_ids)
    result.unchanged += len(matched_ids - changed_ids)


def _apply_updates(db: Session, changed: list[tuple[dict[str, Any], dict[str, Any], PaperRecord]]) -> None:
    t = _table(Paper)
    params = []
    for existing, values, rec in changed:
        up = rec.upvotes if rec.upvotes is not None else existing["imported_upvotes"]
        com = rec.num_comments if rec.num_comments is not None else existing["imported_comments"]
        params.append({"b_id": existing["id"], "b_up": up, "b_com": com, "b_now": utcnow(),
                       **{f"b_{k}": v for k, v in values.items()}})
        existing["imported_upvotes"], existing["imported_comments"] = up, com
    # upvotes/num_comments add local votes and comments to the imported counts; computing them
    # in SQL from the old column values keeps a concurrent vote from being lost.
    stmt = (update(t).where(t.c.id == bindparam("b_id")).values(
        **{k: bindparam(f"b_{k}") for k in PAPER_FIELDS},
        upvotes=t.c.upvotes - t.c.imported_upvotes + bindparam("b_up"),
        imported_upvotes=bindparam("b_up"),
        num_comments=t.c.num_comments - t.c.imported_comments + bindparam("b_com"),
        imported_comments=bindparam("b_com"),
        modified_at=bindparam("b_now"),
    ))
    db.execute(stmt, params)


def _sync_authors(db: Session, created: list[tuple[int, PaperRecord]],
                  matched: list[tuple[dict[str, Any], PaperRecord]]) -> set[int]:
    """Write author lists of new papers and of matched papers whose list changed; return changed ids."""
    current = _current_authors(db, [e["id"] for e, rec in matched if rec.authors])
    wanted = {pid: _author_list(rec) for pid, rec in created if rec.authors}
    touched: set[int] = set()
    for existing, rec in matched:
        if not rec.authors:
            continue
        now = current.get(existing["id"])
        authors = _author_list(rec, now)
        if now != authors:
            wanted[existing["id"]] = authors
            touched.add(existing["id"])
    if not wanted:
        return touched
    ids = author_ids(db, {n for names in wanted.values() for n, _ in names})
    if touched:
        db.execute(delete(PaperAuthor).where(PaperAuthor.paper_id.in_(touched)))
    insert_rows(db=db, table=_table(PaperAuthor), rows=[
        {"paper_id": pid, "position": i, "author_id": ids[name], "user": user}
        for pid, names in wanted.items() for i, (name, user) in enumerate(names)
    ])
    return touched


def _rows(groups: dict[int, tuple[dict[str, Any] | None, PaperRecord]],
          new_rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The stored row of each group, in group order (new groups take the inserted rows in turn)."""
    fresh = iter(new_rows)
    for existing, _ in groups.values():
        yield existing if existing is not None else next(fresh)


_ENTRY_FIELDS = ("day", "submitted_at", "submitted_by", "organization_id", "submitter_fullname",
                 "submitter_avatar_url", "estimated")


def _sync_entries(db: Session, pairs: list[tuple[dict[str, Any], PaperRecord]]) -> set[int]:
    """Create or update the DailyEntry of every featured record; return ids of changed papers."""
    featured = [(row, r) for row, r in pairs if r.featured_on]
    if not featured:
        return set()
    paper_ids = [row["id"] for row, _ in featured]
    cols = (DailyEntry.paper_id, DailyEntry.day, DailyEntry.submitted_at, DailyEntry.submitted_by,
            DailyEntry.organization_id, DailyEntry.submitter_fullname,
            DailyEntry.submitter_avatar_url, DailyEntry.estimated)
    existing = {row[0]: dict(zip(_ENTRY_FIELDS, row[1:], strict=True)) for row in db.execute(
        select(*cols).where(DailyEntry.paper_id.in_(paper_ids)))}
    # A guessed day (a seed card's date) never moves a paper a source really featured.
    featured = [(row, rec) for row, rec in featured if not (
        rec.featured_estimated and row["id"] in existing and not existing[row["id"]]["estimated"])]
    org_ids = _org_ids(db, [r for _, r in featured])
    pending: dict[int, dict[str, Any]] = {}
    for row, rec in featured:
        pid = row["id"]
        old = existing.get(pid, {})
        values = {
            "day": rec.featured_on,
            "submitted_at": rec.submitted_at or old.get("submitted_at"),
            "submitted_by": rec.submitted_by or old.get("submitted_by"),
            "organization_id": (org_ids[rec.organization.handle] if rec.organization
                                else old.get("organization_id")),
            "submitter_fullname": rec.submitter_fullname or old.get("submitter_fullname"),
            "submitter_avatar_url": rec.submitter_avatar_url or old.get("submitter_avatar_url"),
            "estimated": rec.featured_estimated,
        }
        if values != old:
            pending[pid] = {"paper_id": pid, **values}
    created = [v for pid, v in pending.items() if pid not in existing]
    if created:
        insert_rows(db=db, table=_table(DailyEntry), rows=[{**v, "created_at": utcnow()} for v in created])
    for pid, values in pending.items():
        if pid in existing:
            db.execute(update(DailyEntry).where(DailyEntry.paper_id == pid).values(**values))
    return {pid for pid in pending if pid in existing}
