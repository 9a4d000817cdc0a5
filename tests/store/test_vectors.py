"""pgvector on PostgreSQL: the bytes → vector mirror, per-model HNSW indexes, nearest queries."""

import math
import random
import struct

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dailypapers.store import Embedding
from dailypapers.store.vectors import (
    VectorsUnavailable,
    ensure_vector_index,
    index_name,
    nearest_papers,
    nearest_statement,
)
from tests.factories import make_paper


def _pack(values: list[float]) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def _as_float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", _pack(values)))


def _embed(db, paper_id: int, values: list[float], model: str = "test-model") -> Embedding:
    row = Embedding(paper_id=paper_id, model=model, content_hash="h", dim=len(values),
                    vector=_pack(values))
    db.add(row)
    db.flush()
    return row


def _unit(rng: random.Random, dim: int) -> list[float]:
    values = [rng.gauss(0, 1) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


@pytest.mark.postgres_only
def test_trigger_mirrors_float32_bytes_exactly_on_insert_and_update(db):
    paper = make_paper(db)
    # Signs, zero, negative zero, a subnormal, the smallest normal, large and tiny magnitudes.
    values = [0.0, -0.0, 1.0, -2.5, 1e-45, 1.1754944e-38, 3.0e38, -1.0e-20, 0.1, 123456.789]
    row = _embed(db, paper.id, values)
    stored = db.execute(text("SELECT embedding::real[] FROM embeddings WHERE id = :id"),
                        {"id": row.id}).scalar_one()
    # real[] travels as shortest decimal text, so compare as float32 again (exact, bit for bit).
    assert _pack(stored) == _pack(values)

    row.vector = _pack([0.5, -0.25])
    row.dim = 2
    db.flush()
    stored = db.execute(text("SELECT embedding::real[] FROM embeddings WHERE id = :id"),
                        {"id": row.id}).scalar_one()
    assert stored == [0.5, -0.25]


@pytest.mark.postgres_only
def test_bytes_that_are_not_float32_values_are_refused(db):
    paper = make_paper(db)
    with pytest.raises(DBAPIError, match="must hold float32 values"):
        db.add(Embedding(paper_id=paper.id, model="m", content_hash="h", dim=1, vector=b"\x00" * 5))
        db.flush()
    db.rollback()


@pytest.mark.postgres_only
def test_hnsw_index_serves_nearest_papers_for_each_model(db):
    rng = random.Random(7)
    papers = [make_paper(db) for _ in range(60)]
    wide = {p.id: _unit(rng, 16) for p in papers}
    narrow = {p.id: _unit(rng, 3) for p in papers[:20]}
    for pid, values in wide.items():
        _embed(db, pid, values, model="wide")
    for pid, values in narrow.items():
        _embed(db, pid, values, model="narrow")
    db.commit()

    names = {ensure_vector_index(db=db, model="wide", dim=16),
             ensure_vector_index(db=db, model="narrow", dim=3),
             ensure_vector_index(db=db, model="wide", dim=16)}  # idempotent
    db.commit()
    indexes = dict(db.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'embeddings'")).all())
    assert names == {index_name("wide", 16), index_name("narrow", 3)}
    assert all("USING hnsw" in indexes[name] for name in names)

    query = _unit(rng, 16)

    def cosine(a: list[float], b: list[float]) -> float:
        return 1 - sum(x * y for x, y in zip(a, b, strict=True))

    exact = sorted(wide, key=lambda pid: cosine(_as_float32(wide[pid]), _as_float32(query)))[:5]
    found = nearest_papers(db=db, model="wide", query=query, limit=5, ef_search=200)
    assert [pid for pid, _ in found] == exact
    assert [d for _, d in found] == sorted(d for _, d in found)
    db.rollback()

    own = papers[3].id
    found = nearest_papers(db=db, model="narrow", query=narrow[own], limit=3)
    assert found[0][0] == own and found[0][1] == pytest.approx(0, abs=1e-6)
    assert {pid for pid, _ in found} <= set(narrow)
    db.rollback()

    db.execute(text("ANALYZE embeddings"))
    # A 60-row table is cheaper to scan; forbid that to prove the index matches the query.
    db.execute(text("SET LOCAL enable_seqscan = off"))
    db.execute(text("SET LOCAL enable_bitmapscan = off"))
    plan = "\n".join(db.execute(text("EXPLAIN " + nearest_statement(model="wide", dim=16).text),
                                {"query": str(query), "limit": 5}).scalars())
    assert index_name("wide", 16) in plan
    db.rollback()


@pytest.mark.postgres_only
def test_a_model_name_with_quotes_is_data_not_sql(db):
    paper = make_paper(db)
    model = "o'brien'; DROP TABLE papers; --"
    _embed(db, paper.id, [1.0, 0.0], model=model)
    ensure_vector_index(db=db, model=model, dim=2)
    assert nearest_papers(db=db, model=model, query=[1.0, 0.0], limit=1)[0][0] == paper.id
    assert db.execute(text("SELECT count(*) FROM papers")).scalar_one() == 1


@pytest.mark.sqlite_only
def test_sqlite_has_no_vector_queries(db):
    with pytest.raises(VectorsUnavailable):
        nearest_papers(db=db, model="m", query=[1.0], limit=1)
    with pytest.raises(VectorsUnavailable):
        ensure_vector_index(db=db, model="m", dim=1)


def test_bad_dimensions_are_refused_before_any_sql(db):
    with pytest.raises(ValueError, match="dimension"):
        nearest_statement(model="m", dim=0)
    with pytest.raises(ValueError, match="dimension"):
        nearest_statement(model="m", dim=4096)
