"""Nearest-neighbour queries over embeddings with pgvector (PostgreSQL only).

Every embedding is stored portably as float32 bytes in ``embeddings.vector``. On PostgreSQL,
migration 0007 adds ``embeddings.embedding`` (type ``vector``) and a trigger that fills it from
the bytes on every insert or update, so writers need nothing PostgreSQL-specific. Vectors of one
model share a dimension; the HNSW index is therefore partial (one model) over the expression
``embedding::vector(dim)``, and queries here use exactly that expression and predicate so the
planner can use it. On SQLite there is no vector index in the database: the search layer keeps
its own in-process index, and these functions refuse with ``VectorsUnavailable``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pgvector.sqlalchemy import Vector
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

# Cosine distance, as for normalized sentence embeddings.
OPCLASS = "vector_cosine_ops"
DISTANCE = "<=>"


class VectorsUnavailable(RuntimeError):
    """The database is not PostgreSQL with pgvector."""


def vectors_supported(db: Session) -> bool:
    """True when ``db`` is PostgreSQL (migration 0007 makes pgvector a requirement there)."""
    return db.get_bind().dialect.name == "postgresql"


def _require(db: Session) -> None:
    if not vectors_supported(db):
        raise VectorsUnavailable("pgvector queries need PostgreSQL; SQLite uses the in-process index")


def _literal(value: str) -> str:
    # Model names go into DDL and into the query text (a partial index is only used when the
    # planner sees the constant); doubling quotes is the SQL-standard escape.
    return "'" + value.replace("'", "''") + "'"


def _check_dim(dim: int) -> int:
    if not isinstance(dim, int) or not 1 <= dim <= 2000:  # pgvector's HNSW limit
        raise ValueError(f"dimension must be an integer from 1 to 2000, not {dim!r}")
    return dim


def index_name(model: str, dim: int) -> str:
    digest = hashlib.sha1(f"{model}\0{dim}".encode()).hexdigest()[:12]
    return f"ix_embeddings_hnsw_{digest}"


def ensure_vector_index(*, db: Session, model: str, dim: int, m: int = 16,
                        ef_construction: int = 64) -> str:
    """Create (if missing) the HNSW index for one model's vectors; return its name.

    Call it once after a model's embeddings are written (building it on a filled table is faster
    than updating it row by row). It locks writes to ``embeddings`` while it builds; on a large
    live installation create it ``CONCURRENTLY`` by hand instead (docs/postgresql.md).
    """
    _require(db)
    dim = _check_dim(dim)
    name = index_name(model, dim)
    # Two processes creating the same index at once would both pass IF NOT EXISTS (CREATE INDEX
    # locks are compatible with each other) and one would fail on the catalog's unique name.
    db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
    db.execute(text(
        f"CREATE INDEX IF NOT EXISTS {name} ON embeddings USING hnsw "
        f"((embedding::vector({dim})) {OPCLASS}) WITH (m = {int(m)}, ef_construction = {int(ef_construction)}) "
        f"WHERE model = {_literal(model)} AND dim = {dim}"))
    return name


def nearest_papers(*, db: Session, model: str, query: Sequence[float], limit: int = 10,
                   ef_search: int | None = None) -> list[tuple[int, float]]:
    """The ``limit`` papers whose ``model`` embedding is closest to ``query``, as
    ``(paper_id, cosine distance)`` pairs, nearest first (approximate when the HNSW index exists).

    ``ef_search`` widens the HNSW candidate list (pgvector's default is 40); it must be at least
    ``limit`` for the index to return ``limit`` rows.
    """
    _require(db)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    ef = max(ef_search or 40, limit)
    # SET LOCAL lasts until the end of the current transaction only.
    db.execute(text(f"SET LOCAL hnsw.ef_search = {int(min(ef, 1000))}"))
    stmt = nearest_statement(model=model, dim=len(query))
    rows = db.execute(stmt, {"query": list(map(float, query)), "limit": limit}).all()
    return [(int(pid), float(distance)) for pid, distance in rows]


def nearest_statement(*, model: str, dim: int) -> TextClause:
    """The k-nearest query (parameters ``query`` and ``limit``), written so the partial HNSW
    index of ``ensure_vector_index`` matches it."""
    dim = _check_dim(dim)
    return text(
        f"SELECT paper_id, (embedding::vector({dim})) {DISTANCE} :query AS distance "
        f"FROM embeddings WHERE model = {_literal(model)} AND dim = {dim} "
        f"ORDER BY (embedding::vector({dim})) {DISTANCE} :query LIMIT :limit"
    ).bindparams(bindparam("query", type_=Vector(dim)), bindparam("limit"))
