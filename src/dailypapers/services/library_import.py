"""Filling a collection from a reference-manager file (BibTeX, RIS, Zotero CSL-JSON).

Each entry is matched to the catalog, in this order: by arXiv id (from ``eprint``, URLs,
``journal``/``note`` text or arXiv's DataCite DOI ``10.48550/arXiv.<id>``); by DOI, which finds a
paper only through that arXiv DOI (the catalog keeps no other DOIs); by normalized title
(``sources.records.normalize_title``), when exactly one paper has it. Every entry ends up in the
report: matched (and how), or unmatched with the reason; none is dropped. A file that cannot be
read changes nothing (it is read whole before the collection is touched); the matched papers go
into the collection in the caller's one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.services.library import add_to_collection, collection_id_of
from dailypapers.sources.records import normalize_title
from dailypapers.sources.references import Reference, ReferenceFormat, read_references
from dailypapers.store import Collection, Paper

MatchedBy = Literal["arXiv id", "DOI", "title"]
# Lookups by many values go in chunks under every driver's bound-parameter limit.
_CHUNK = 500
_ARXIV_DOI = "10.48550/arxiv."


@dataclass(frozen=True)
class Matched:
    ref: Reference
    paper_key: str
    paper_title: str
    by: MatchedBy


@dataclass(frozen=True)
class Unmatched:
    ref: Reference
    reason: str


@dataclass(frozen=True)
class ImportReport:
    fmt: ReferenceFormat
    collection_id: int
    collection_name: str
    matched: list[Matched]
    unmatched: list[Unmatched]
    added: int  # matched papers that were not in the collection yet

    @property
    def total(self) -> int:
        return len(self.matched) + len(self.unmatched)


def _lookup(db: Session, column: object, values: set[str]) -> dict[str, list[tuple[int, str, str]]]:
    """Papers whose ``column`` is one of ``values``: value → [(id, key, title)]."""
    found: dict[str, list[tuple[int, str, str]]] = {}
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        rows = db.execute(select(column, Paper.id, Paper.key, Paper.title)  # type: ignore[call-overload]
                          .where(column.in_(ordered[start:start + _CHUNK])))  # type: ignore[attr-defined]
        for value, pid, key, title in rows:
            found.setdefault(value, []).append((pid, key, title))
    return found


def _arxiv_from_doi(doi: str | None) -> str | None:
    return doi[len(_ARXIV_DOI):] if doi and doi.startswith(_ARXIV_DOI) else None


def match_references(*, db: Session, refs: list[Reference]) -> tuple[list[tuple[Matched, int]], list[Unmatched]]:
    """Each readable entry's paper (with its id), else why none was found."""
    by_arxiv = _lookup(db, Paper.arxiv_id, {r.arxiv_id for r in refs if r.arxiv_id}
                       | {a for r in refs if (a := _arxiv_from_doi(r.doi))})
    by_title = _lookup(db, Paper.title_key, {normalize_title(r.title) for r in refs if r.title})
    matched: list[tuple[Matched, int]] = []
    unmatched: list[Unmatched] = []
    for ref in refs:
        if ref.problem:
            unmatched.append(Unmatched(ref, ref.problem))
            continue
        doi_id = _arxiv_from_doi(ref.doi)
        candidates: list[tuple[MatchedBy, list[tuple[int, str, str]]]] = [
            ("arXiv id", by_arxiv.get(ref.arxiv_id or "", [])),
            ("DOI", by_arxiv.get(doi_id or "", [])),
            ("title", by_title.get(normalize_title(ref.title), []) if ref.title else []),
        ]
        hit = next(((how, rows[0]) for how, rows in candidates if len(rows) == 1), None)
        if hit is not None:
            how, (pid, key, title) = hit
            matched.append((Matched(ref, key, title, how), pid))
            continue
        if ref.title and len(candidates[2][1]) > 1:
            reason = f"{len(candidates[2][1])} papers in the catalog have this title"
        elif ref.arxiv_id or doi_id:
            reason = f"arXiv {ref.arxiv_id or doi_id} is not in the catalog (submit it to add it)"
        else:
            reason = "no paper in the catalog has this " + ("title" if ref.title else "DOI")
        unmatched.append(Unmatched(ref, reason))
    return matched, unmatched


def import_references(*, db: Session, user_id: int, filename: str, content: bytes,
                      collection: int | str | None) -> ImportReport:
    """Read a reference file and put every paper it matches into one of the member's collections
    (an id, a new or existing name, or ``None``: ``Saved``). Raises ``ReferenceFileError`` (an
    ``Invalid``-like refusal) before changing anything when the file cannot be read."""
    fmt, refs = read_references(filename=filename, content=content)
    matched, unmatched = match_references(db=db, refs=refs)
    cid = collection_id_of(db=db, user_id=user_id, collection=collection)
    added = add_to_collection(db=db, user_id=user_id, collection_id=cid,
                              paper_ids=[pid for _, pid in matched])
    name = db.scalar(select(Collection.name).where(Collection.id == cid)) or ""
    return ImportReport(fmt=fmt, collection_id=cid, collection_name=name,
                        matched=[m for m, _ in matched], unmatched=unmatched, added=added)
