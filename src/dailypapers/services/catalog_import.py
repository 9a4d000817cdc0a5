"""Importing ``PaperRecord``s into the catalog: the two entry points over ``catalog.upsert_batch``.

``import_records`` is a whole use case (an import command) and commits each batch;
``upsert_records`` writes in its caller's transaction, for a caller whose own bookkeeping (a
sync's checkpoint, a submission) must commit together with the papers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from dailypapers.services.catalog import ImportResult, ProgressFn, batches, upsert_batch
from dailypapers.sources.records import PaperRecord
from dailypapers.store.db import end_read_only


def upsert_records(*, db: Session, records: Iterable[PaperRecord], batch_size: int = 1000,
                   result: ImportResult | None = None) -> ImportResult:
    """Upsert records in the caller's transaction (nothing is committed here): for a caller whose
    own bookkeeping must commit together with the papers, such as a sync's checkpoint."""
    result = result if result is not None else ImportResult()
    for chunk in batches(records, batch_size):
        upsert_batch(db, chunk, result)
    return result


def import_records(
    *,
    db: Session,
    records: Iterable[PaperRecord],
    batch_size: int = 1000,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Upsert records in batches, one transaction each. A second run with the same input changes nothing.

    Within a batch, several records for the same paper are applied in order (the last one wins).
    A whole use case (an import command): it commits each batch, so ``db`` must hold nothing
    else pending; ``upsert_records`` writes in the caller's transaction instead.
    """
    end_read_only(db)  # it commits: never work its caller had pending
    result = ImportResult()
    for chunk in batches(records, batch_size):
        try:
            upsert_batch(db, chunk, result)
            db.commit()
        except Exception:
            db.rollback()
            raise
        if progress:
            progress(len(chunk))
    return result
