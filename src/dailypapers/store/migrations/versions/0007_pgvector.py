"""pgvector: on PostgreSQL, mirror every embedding into a ``vector`` column (nothing on SQLite)

The portable column ``embeddings.vector`` keeps float32 little-endian bytes on every engine. On
PostgreSQL a trigger decodes them into ``embeddings.embedding`` (type ``vector``, no fixed
dimension, so several models can coexist), whoever writes the row (ORM, Core, ``db copy``).
HNSW indexes are per model and dimension and are created by ``store.vectors.ensure_vector_index``.

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0001'
branch_labels = None
depends_on = None

# Bytes -> vector in plain SQL: each 4-byte little-endian word is an IEEE-754 float32, rebuilt
# exactly in float8 from sign, exponent and mantissa (subnormals included); NaN/Inf are refused
# by the vector type itself.
FLOAT4LE_TO_VECTOR = r"""
CREATE OR REPLACE FUNCTION dailypapers_float4le_to_vector(b bytea) RETURNS vector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_agg(
           CASE WHEN (w >> 31) = 1 THEN -1.0::float8 ELSE 1.0::float8 END
           * CASE WHEN ((w >> 23) & 255) = 0
                  THEN (w & 8388607)::float8 * 2.0::float8 ^ (-149)
                  ELSE ((w & 8388607) + 8388608)::float8 * 2.0::float8 ^ (((w >> 23) & 255) - 150)
             END
           ORDER BY i)::vector
  FROM (SELECT i, get_byte(b, 4 * i)::bigint
                  | (get_byte(b, 4 * i + 1)::bigint << 8)
                  | (get_byte(b, 4 * i + 2)::bigint << 16)
                  | (get_byte(b, 4 * i + 3)::bigint << 24) AS w
        FROM generate_series(0, length(b) / 4 - 1) AS i) AS words
$$
"""

MIRROR_FUNCTION = r"""
CREATE OR REPLACE FUNCTION dailypapers_embeddings_mirror() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF length(NEW."vector") = 0 OR length(NEW."vector") % 4 <> 0 THEN
    RAISE EXCEPTION 'embeddings.vector must hold float32 values (got % bytes)', length(NEW."vector");
  END IF;
  NEW.embedding := dailypapers_float4le_to_vector(NEW."vector");
  RETURN NEW;
END
$$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).first()
    if available is None:
        raise RuntimeError(
            "this PostgreSQL server has no pgvector extension: install it (for example the "
            "postgresql-16-pgvector package from the PostgreSQL apt repository) and run "
            "`CREATE EXTENSION vector` as a superuser; see docs/postgresql.md")
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("ALTER TABLE embeddings ADD COLUMN embedding vector")
    op.execute(FLOAT4LE_TO_VECTOR)
    op.execute(MIRROR_FUNCTION)
    op.execute('CREATE TRIGGER embeddings_mirror BEFORE INSERT OR UPDATE OF "vector" ON embeddings '
               'FOR EACH ROW EXECUTE FUNCTION dailypapers_embeddings_mirror()')
    op.execute('UPDATE embeddings SET embedding = dailypapers_float4le_to_vector("vector")')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS embeddings_mirror ON embeddings")
    op.execute("DROP FUNCTION IF EXISTS dailypapers_embeddings_mirror()")
    op.execute("DROP FUNCTION IF EXISTS dailypapers_float4le_to_vector(bytea)")
    op.execute("ALTER TABLE embeddings DROP COLUMN IF EXISTS embedding")
