"""Work claims between concurrent worker processes that share one database.

On PostgreSQL a claim is a transaction-scoped advisory lock on ``(namespace, id)``, taken with
``pg_try_advisory_xact_lock``: it never waits, another worker's held ids are skipped (as
``FOR UPDATE SKIP LOCKED`` skips rows), and it is released by the commit or rollback that ends
the work, or by the server when the worker's connection dies. Unlike ``FOR UPDATE`` on the
rows themselves it blocks nobody but other claimers: an embedding worker that holds a batch
of papers for seconds while the model runs does not hold up votes on those papers. Advisory
locks are per transaction, so PgBouncer's transaction pooling keeps them intact.

SQLite has one writer at a time and no such locks: every id is "claimed", and installations on
SQLite run one worker of a kind at a time.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer

_TRY_CLAIM = text(
    "SELECT id FROM unnest(:ids) WITH ORDINALITY AS t(id, n) "
    "WHERE pg_try_advisory_xact_lock(:namespace, id) ORDER BY n"
).bindparams(bindparam("ids", type_=ARRAY(Integer)), bindparam("namespace", type_=Integer))


def namespace_key(namespace: str) -> int:
    """A stable signed 32-bit key for ``namespace`` (the first half of the advisory lock key)."""
    value = zlib.crc32(namespace.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


def try_claim(*, db: Session, namespace: str, ids: Sequence[int]) -> list[int]:
    """The ids of ``ids`` (in their order) that this transaction now holds for ``namespace``,
    without waiting for any held elsewhere. Whoever claimed an id must re-read its state after
    the claim: the previous holder may have finished it just before."""
    if not ids or db.get_bind().dialect.name != "postgresql":
        return list(ids)
    return list(db.scalars(_TRY_CLAIM, {"ids": list(ids), "namespace": namespace_key(namespace)}))
