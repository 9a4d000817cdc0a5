"""Moving house: copy every table of one database into another (SQLite ⇄ PostgreSQL), then verify.

The copy is generic over ``Base.metadata``: every model registered in ``dailypapers.store`` is
copied, parents before children (foreign-key order), rows in primary-key order, in batches, with
their ids kept, so every reference stays valid. Columns that exist only in the database (the
pgvector mirror ``embeddings.embedding``) are rebuilt by the target's own triggers. Derived
artefacts that live outside the models (search indexes) are not copied; rebuild them on the target.

The whole copy is one transaction on the target: a failed copy leaves the target as it was.
Writers must be stopped while copying; the counts are compared afterwards to catch any that were not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Integer, Table, delete, func, insert, inspect, select, text
from sqlalchemy.orm import Session

import dailypapers.store  # noqa: F401  (registers every model on Base.metadata)
from dailypapers.store.base import Base

# (table, rows copied so far in that table, rows the table holds in the source)
CopyProgress = Callable[[str, int, int], None]

# Bookkeeping tables that belong to the schema, not to the data.
NOT_DATA = {"alembic_version"}
# Tables whose row the migration itself writes (the catalog's random id): a freshly migrated
# target holds it, yet is empty. The source's row replaces it, so the target names the same
# catalog as its source (and search indexes built for the target's old contents are rebuilt).
MIGRATION_ROWS = {"catalog_identity"}


class CopyError(RuntimeError):
    """The copy cannot start or did not verify; the message says what to do."""


@dataclass
class TableCount:
    table: str
    source: int
    target: int


@dataclass
class CopyReport:
    tables: list[TableCount] = field(default_factory=list)
    # Tables found in the source database that no model describes (for example a search index
    # kept inside SQLite); they were not copied.
    not_copied: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.target for t in self.tables)


def data_tables() -> list[Table]:
    """Every model table, parents before children."""
    return list(Base.metadata.sorted_tables)


def _heads(db: Session) -> set[str]:
    return set(MigrationContext.configure(db.connection()).get_current_heads())


def _count(db: Session, table: Table) -> int:
    return db.execute(select(func.count()).select_from(table)).scalar_one()


def _check_schemas(source: Session, target: Session) -> None:
    source_heads, target_heads = _heads(source), _heads(target)
    if not target_heads:
        raise CopyError("the target database has no schema: migrate it first (`dailypapers db migrate`)")
    if source_heads != target_heads:
        raise CopyError(
            f"the source schema is at revision(s) {sorted(source_heads) or 'none'} but the target is "
            f"at {sorted(target_heads)}: run `dailypapers db migrate` with DAILYPAPERS_DATABASE_URL "
            "set to the source first")


def _empty_target(target: Session, tables: list[Table], *, replace: bool) -> None:
    filled = [f"{t.name} ({n})" for t in tables if t.name not in MIGRATION_ROWS and (n := _count(target, t))]
    if filled and not replace:
        raise CopyError("the target database is not empty: " + ", ".join(filled)
                        + "; pass --replace to delete its rows first")
    for table in reversed(tables):
        if filled or table.name in MIGRATION_ROWS:
            target.execute(delete(table))


def _copy_table(source: Session, target: Session, table: Table, *, batch_size: int,
                progress: CopyProgress | None) -> None:
    total = _count(source, table)
    if progress:
        progress(table.name, 0, total)
    # Primary-key order puts a self-referencing row's parent (a reply's comment) before it.
    stmt = select(table).order_by(*table.primary_key.columns)
    result = source.execute(stmt.execution_options(yield_per=batch_size))
    done = 0
    for batch in result.mappings().partitions(batch_size):
        target.execute(insert(table), [dict(row) for row in batch])
        done += len(batch)
        if progress:
            progress(table.name, done, total)


def _reset_sequences(target: Session, tables: list[Table]) -> None:
    """Copied ids were given explicitly, so PostgreSQL's sequences must move past them."""
    if target.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        seq = target.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                             {"t": table.name, "c": pk[0].name}).scalar()
        if seq is None:
            continue
        target.execute(text(
            f'SELECT setval(:seq, COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 0) + 1, false)'),
            {"seq": seq})


def _unmodelled(source: Session, tables: list[Table]) -> list[str]:
    names = set(inspect(source.connection()).get_table_names())
    return sorted(names - {t.name for t in tables} - NOT_DATA)


def verify_counts(*, source: Session, target: Session) -> list[TableCount]:
    """Row counts of every model table on both sides."""
    return [TableCount(t.name, _count(source, t), _count(target, t)) for t in data_tables()]


def copy_database(*, source: Session, target: Session, batch_size: int = 1000, replace: bool = False,
                  progress: CopyProgress | None = None) -> CopyReport:
    """Copy every model table from ``source`` into the migrated ``target`` and verify the counts.

    Refuses (``CopyError``, nothing written) when the two schemas are at different revisions or
    the target already holds rows (unless ``replace``). Raises ``CopyError`` after the copy if a
    count differs, which means something wrote to the source meanwhile.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    tables = data_tables()
    _check_schemas(source, target)
    report = CopyReport(not_copied=_unmodelled(source, tables))
    try:
        _empty_target(target, tables, replace=replace)
        for table in tables:
            _copy_table(source, target, table, batch_size=batch_size, progress=progress)
        _reset_sequences(target, tables)
        target.commit()
    except Exception:
        target.rollback()
        raise
    finally:
        source.rollback()
    report.tables = verify_counts(source=source, target=target)
    source.rollback()
    target.rollback()
    wrong = [c for c in report.tables if c.source != c.target]
    if wrong:
        raise CopyError("counts differ after the copy (was the source written to meanwhile?): "
                        + ", ".join(f"{c.table} {c.source} ≠ {c.target}" for c in wrong))
    return report
