"""Bulk inserts and many-value lookups (COPY and = ANY on PostgreSQL): the same rows as an INSERT."""

import datetime as dt

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from dailypapers.store import Author, Paper
from dailypapers.store.bulk import insert_rows, matches


def _row(key: str, **extra: object) -> dict[str, object]:
    return {"key": key, "title": f"Title {key}", "title_key": f"title {key}", **extra}


def test_insert_rows_stores_what_an_insert_stores_defaults_included(db: Session) -> None:
    table: Table = Paper.__table__  # type: ignore[assignment]
    published = dt.datetime(2025, 1, 2, 3, 4, 5)
    insert_rows(db=db, table=table, rows=[
        _row("bulk-1", categories=["cs.CL", "cs.LG"], published_at=published, abstract="tab\there"),
        _row("bulk-2", categories=[], published_at=None, abstract="it's \"quoted\"\nand \\ back"),
    ])
    db.execute(insert(table), [_row("plain-1", categories=["cs.CL", "cs.LG"], published_at=published,
                                    abstract="tab\there")])
    db.commit()
    got = {p.key: p for p in db.scalars(select(Paper))}
    bulk, plain = got["bulk-1"], got["plain-1"]
    for name in ("categories", "published_at", "abstract", "upvotes", "imported_upvotes", "num_comments",
                 "version", "arxiv_id"):
        assert getattr(bulk, name) == getattr(plain, name), name
    # Python-side defaults were filled in, as an INSERT through SQLAlchemy fills them.
    assert bulk.upvotes == 0 and bulk.created_at is not None and bulk.modified_at is not None
    assert got["bulk-2"].abstract == "it's \"quoted\"\nand \\ back"
    assert got["bulk-2"].categories == []


def test_insert_rows_drops_nul_characters_like_every_statement(db: Session) -> None:
    insert_rows(db=db, table=Author.__table__, rows=[{"name": "Ada\x00 Lovelace"}])  # type: ignore[arg-type]
    db.commit()
    # PostgreSQL text cannot hold NUL (store/db.py drops it from every statement); SQLite keeps it.
    postgres = db.get_bind().dialect.name == "postgresql"
    assert db.scalars(select(Author.name)).all() == ["Ada Lovelace" if postgres else "Ada\x00 Lovelace"]


def test_insert_rows_of_nothing_does_nothing(db: Session) -> None:
    insert_rows(db=db, table=Author.__table__, rows=[])  # type: ignore[arg-type]
    assert db.scalars(select(Author)).all() == []


def test_matches_finds_the_rows_whose_value_is_listed(db: Session) -> None:
    insert_rows(db=db, table=Author.__table__,  # type: ignore[arg-type]
                rows=[{"name": n} for n in ("a", "b", "c", "it's")])
    db.commit()
    names = set(db.scalars(select(Author.name).where(matches(db, Author.name, ["b", "it's", "zz"]))))
    assert names == {"b", "it's"}
    assert db.scalars(select(Author.name).where(matches(db, Author.name, []))).all() == []
