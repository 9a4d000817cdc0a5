"""Bulk statements for batch writers (imports): the same rows, the fastest way each engine offers.

- ``insert_rows``: SQLite runs one ``INSERT`` with executemany (the sqlite3 module loops in C).
  On PostgreSQL psycopg's executemany still sends one ``INSERT`` per row; ``COPY … FROM STDIN``
  streams all of them as one command instead, inside the session's transaction.
- ``matches``: ``column IN (:p1, …, :pN)`` on SQLite; ``column = ANY(:array)`` on PostgreSQL,
  one parameter whatever the number of values (psycopg converts a query of 500 placeholders
  anew on every call, since prepared statements are off — see ``store/db.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def _is_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def matches(db: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, as a condition for ``where``."""
    if not _is_postgres(db):
        return column.in_(values)  # type: ignore[no-any-return]
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


def _copy_rows(db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    keys = list(rows[0])
    extra = _defaults(table, keys)
    names = keys + list(extra)
    dialect = db.get_bind().dialect
    columns: list[Column[Any]] = [table.c[name] for name in names]
    # NULs dropped as store/db.py does for every statement (PostgreSQL text cannot hold them),
    # then the same conversions an INSERT applies (JSON, …).
    processors = [column.type._cached_bind_processor(dialect) for column in columns]  # noqa: SLF001
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    sql = f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN"
    raw = db.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            values = [row[key] for key in keys] + list(extra.values())
            out = []
            for value, process in zip(values, processors, strict=True):
                value = _without_nul(value)
                out.append(process(value) if process is not None and value is not None else value)
            copy.write_row(out)


def insert_rows(*, db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction."""
    if not rows:
        return
    if _is_postgres(db):
        _copy_rows(db, table, rows)
    else:
        db.execute(insert(table), list(rows))
