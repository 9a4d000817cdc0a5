"""Bulk statements for batch writers (imports): the same rows, the fastest way each engine offers.

- ``insert_rows``: SQLite runs one ``INSERT`` with executemany (the sqlite3 module loops in C).
  On PostgreSQL psycopg's executemany still sends one ``INSERT`` per row; ``COPY … FROM STDIN``
  streams all of them as one command instead, inside the session's transaction.
  ``row_encoder`` + ``insert_encoded`` are the same in two steps, for a writer whose rows are
  encoded elsewhere (the snapshot import encodes them in its reader process).
- ``matches``: ``column = ANY(:array)`` on PostgreSQL and ``column IN (SELECT value FROM
  json_each(:json))`` on SQLite: one parameter whatever the number of values. ``IN (:p1, …,
  :pN)`` is rendered anew for every call (SQLAlchemy's "expanding" parameters; psycopg also
  converts a query of 500 placeholders anew, since prepared statements are off — see
  ``store/db.py``): building those parameters was a third of the CPU of a snapshot import.
- ``insert_if_absent``: ``INSERT … ON CONFLICT DO NOTHING`` (both engines spell it the same, but
  SQLAlchemy builds it per dialect): a lost race on a unique key is an answer, not an error that
  would abort the use case's transaction (PostgreSQL refuses every later statement after one).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    any_,
    bindparam,
    func,
    make_url,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql import FromClause

from dailypapers.store.db import hold_write_lock, note_written
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def _is_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def matches(db: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, as a condition for ``where``."""
    if not _is_postgres(db):
        if len(values) < 8 or not all(type(v) in (str, int) for v in values):
            return column.in_(values)  # type: ignore[no-any-return]
        each = func.json_each(bindparam(None, json.dumps(list(values)), type_=String)).table_valued("value")
        return column.in_(select(each.c.value))  # type: ignore[no-any-return]
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]


def _defaults(table: Table, given: Sequence[str]) -> dict[str, Any]:
    """Python-side column defaults (``default=``) of the columns the rows leave out, as an
    ``INSERT`` through SQLAlchemy would fill them."""
    out: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in given or default is None or column.primary_key:
            continue
        if default.is_scalar:
            out[column.key] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:
            out[column.key] = default.arg(None)  # type: ignore[attr-defined]
    return out


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list | tuple):
        return type(value)(_without_nul(v) for v in value)
    return value


def dialect_named(name: str) -> Dialect:
    """The dialect of ``name`` (``sqlite+pysqlite``, ``postgresql+psycopg``) without an engine, for
    ``row_encoder`` in a process that holds no connection (the snapshot import's reader)."""
    return make_url(f"{name}://").get_dialect()()


def dialect_name(db: Session) -> str:
    """The session's dialect as ``dialect_named`` takes it."""
    dialect = db.get_bind().dialect
    return f"{dialect.name}+{dialect.driver}"


def row_encoder(dialect: Dialect, table: Table, names: Sequence[str]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning a row's values (in ``names`` order) into what the driver takes: the
    conversions an ``INSERT`` applies (JSON, dates on SQLite), and on PostgreSQL NULs dropped as
    store/db.py does for every statement (PostgreSQL text cannot hold them)."""
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]  # noqa: SLF001
    converting = [(i, p) for i, p in enumerate(processors) if p is not None]
    drop_nul = dialect.name == "postgresql"

    def encode(row: Sequence[Any]) -> list[Any]:
        out = [_without_nul(v) for v in row] if drop_nul else list(row)
        for i, process in converting:
            if out[i] is not None:
                out[i] = process(out[i])
        return out

    return encode


def _processed_rows(db: Session, table: Table, rows: Sequence[Mapping[str, Any]],
                    ) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """Column names and each row's values as the DB-API driver takes them: Python defaults of
    the columns left out filled in, then ``row_encoder``'s conversions."""
    keys = list(rows[0])
    extra = _defaults(table, keys)
    names = keys + list(extra)
    encode = row_encoder(db.get_bind().dialect, table, names)
    fixed = tuple(extra.values())
    getter = itemgetter(*keys)
    single = len(keys) == 1

    def values() -> Iterator[Sequence[Any]]:
        for row in rows:
            got = getter(row)
            yield encode(((got,) if single else got) + fixed)

    return names, values()


def _copy_rows(db: Session, table: Table, names: Sequence[str], values: Iterable[Sequence[Any]]) -> None:
    preparer = db.get_bind().dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(name) for name in names)
    sql = f"COPY {preparer.format_table(table)} ({quoted}) FROM STDIN"
    raw = db.connection().connection.driver_connection
    dbapi = db.get_bind().dialect.dbapi
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for out in values:
                copy.write_row(out)
    except dbapi.IntegrityError as exc:  # type: ignore[union-attr]  # as SQLAlchemy would raise it
        raise IntegrityError(sql, None, exc) from exc
    except dbapi.OperationalError as exc:  # type: ignore[union-attr]
        raise OperationalError(sql, None, exc) from exc


def _executemany_rows(db: Session, table: Table, names: Sequence[str], values: Iterable[Sequence[Any]]) -> None:
    # sqlite3's executemany straight from tuples: through SQLAlchemy every row's parameters
    # are built in Python (construct_params), a fifth of a snapshot import's CPU.
    preparer = db.get_bind().dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(name) for name in names)
    sql = (f"INSERT INTO {preparer.format_table(table)} ({quoted}) "
           f"VALUES ({', '.join('?' * len(names))})")
    hold_write_lock(db)
    cursor = db.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, values)
    except sqlite3.IntegrityError as exc:  # as SQLAlchemy would raise it: callers catch that
        raise IntegrityError(sql, None, exc) from exc
    except sqlite3.OperationalError as exc:
        raise OperationalError(sql, None, exc) from exc
    finally:
        cursor.close()


def insert_encoded(*, db: Session, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows already encoded by ``row_encoder`` (values in ``names`` order, every column
    without a database default given) in the session's transaction."""
    note_written(db, table.name)  # the driver's own calls below are not seen by session events
    if _is_postgres(db):
        _copy_rows(db, table, names, rows)
    else:
        _executemany_rows(db, table, names, rows)


def insert_rows(*, db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction."""
    if not rows:
        return
    names, values = _processed_rows(db, table, rows)
    insert_encoded(db=db, table=table, names=names, rows=values)


def insert_if_absent(*, db: Session, table: FromClause, values: Mapping[str, Any]) -> bool:
    """Insert one row unless a row with the same unique key exists; whether it was inserted.

    Runs in the session's transaction and never raises ``IntegrityError`` for the duplicate, so
    the caller's transaction stays usable on both engines (no savepoint needed)."""
    dialect = postgresql if _is_postgres(db) else sqlite
    # RETURNING says whether a row went in: psycopg reports rowcount -1 for this statement.
    statement = (dialect.insert(table).values(**values).on_conflict_do_nothing()
                 .returning(*table.primary_key))
    return db.execute(statement).first() is not None
