"""The dense step's two backends: the in-process index and pgvector (HNSW) on PostgreSQL.

Search and similar papers share fusion, pins and filters; only "nearest papers for a vector"
differs, so on the seed sample (183 papers, shipped vectors) both backends must rank alike.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from sqlalchemy import event, func, select, text

from dailypapers.search.embedder import store_vectors
from dailypapers.search.engine import SearchEngine
from dailypapers.services.search import SearchRequest, search_papers, similar_papers
from dailypapers.services.catalog_import import import_records
from dailypapers.services.imports import import_seeds
from dailypapers.services.sample import SAMPLE_YEAR, sample_paths
from dailypapers.settings import Settings
from dailypapers.store import Embedding, Paper
from dailypapers.store.vectors import index_name
from tests.conftest import BACKEND
from tests.factories import make_paper, make_record

QUERIES = ["sigmoid gate after attention output", "sequence parallelism for linear attention",
           "reinforcement learning from human feedback for reasoning", "video generation with diffusion",
           "mixture of experts routing", "long context retrieval benchmark"]


@pytest.fixture
def seeded(database, db):
    import_seeds(db=db, paths=sample_paths(), year=SAMPLE_YEAR)
    db.commit()
    return database


def _ids(database, engine, **request):
    with database.session() as db:
        return [hit.card.id for hit in search_papers(db=db, engine=engine,
                                                     request=SearchRequest(**request)).hits]


def _similar(database, engine, paper_id):
    with database.session() as db:
        return [card.id for card in similar_papers(db=db, engine=engine, paper_id=paper_id, limit=8)]


def test_auto_means_pgvector_on_postgresql_and_memory_on_sqlite(settings):
    engine = SearchEngine(settings)
    assert engine.vector_backend == ("pgvector" if BACKEND == "postgres" else "memory")
    forced = SearchEngine(settings.model_copy(update={"search_vector_backend": "memory"}))
    assert forced.vector_backend == "memory"


def test_pgvector_on_sqlite_is_refused_with_a_message(tmp_path):
    with pytest.raises(ValidationError, match="needs a PostgreSQL database"):
        Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", search_vector_backend="pgvector")


@pytest.mark.postgres_only
def test_pgvector_and_the_in_process_index_rank_the_seed_sample_alike(settings, seeded):
    pg = SearchEngine(settings)
    memory = SearchEngine(settings.model_copy(update={"search_vector_backend": "memory"}))
    assert (pg.vector_backend, memory.vector_backend) == ("pgvector", "memory")
    for q in QUERIES:
        for mode in ("semantic", "hybrid"):
            assert _ids(seeded, pg, q=q, mode=mode, per_page=10) == _ids(seeded, memory, q=q, mode=mode,
                                                                         per_page=10), (q, mode)
    assert memory.vectors.count == 183 and pg.has_vectors
    with seeded.session() as db:
        papers = list(db.scalars(select(Paper.id).order_by(Paper.id).limit(40)))[::8]
    for pid in papers:
        same = _similar(seeded, pg, pid)
        assert len(same) == 8 and same == _similar(seeded, memory, pid), pid


@pytest.mark.postgres_only
def test_the_first_query_creates_the_hnsw_index_and_searches_through_it(settings, seeded):
    """Vectors written by no ``embed`` run (bundled, copied) get their index with the first query,
    and the query uses it. 2,000 more papers with random vectors make the table bigger than the
    200 candidates asked for (under that, a scan and sort is rightly cheaper)."""
    engine = SearchEngine(settings)
    name = index_name(engine.model, 384)
    rng = np.random.default_rng(5)
    with seeded.session() as db:
        import_records(db=db, records=[make_record() for _ in range(2000)])
        extra = db.scalars(select(Paper.id).where(Paper.title.like("Test paper number %"))).all()
        vectors = rng.normal(size=(len(extra), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store_vectors(db=db, model=engine.model, rows=[(pid, "h", v) for pid, v in zip(extra, vectors, strict=True)])
        db.commit()
        assert not db.scalar(text("SELECT 1 FROM pg_indexes WHERE indexname = :n"), {"n": name})
    statements: list[tuple[str, object]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        if "<=>" in statement:
            statements.append((statement, parameters))

    event.listen(seeded.engine, "before_cursor_execute", remember)
    try:
        assert _ids(seeded, engine, q="sigmoid gate after attention output", mode="semantic")
    finally:
        event.remove(seeded.engine, "before_cursor_execute", remember)
    assert len(statements) == 1
    with seeded.engine.connect() as conn:
        assert "USING hnsw" in conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                                           {"n": name})
        conn.execute(text("ANALYZE embeddings"))
        # Exactly what the search sent, explained: the planner chooses the model's HNSW index.
        statement, parameters = statements[0]
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert f"Index Scan using {name}" in plan, plan


def test_a_paper_embedded_after_startup_is_found_by_meaning_at_once(settings, seeded):
    engine = SearchEngine(settings)
    query = "protein structure prediction on quantum annealing hardware"
    assert _ids(seeded, engine, q=query, mode="semantic")  # the engine is warm: vectors, model
    with seeded.session() as db:
        paper = make_paper(db, title="Folding proteins with a quantum annealer",
                           abstract="We fold small proteins on a D-Wave quantum annealer.")
        # Another process's embedding worker would write this row; the engine is not told.
        store_vectors(db=db, model=engine.model,
                      rows=[(paper.id, "h", engine.provider.embed_query("folding proteins with a "
                                                                         "quantum annealer"))])
        db.commit()
        assert db.scalar(select(func.count()).select_from(Embedding)) == 184
    assert _ids(seeded, engine, q=query, mode="semantic", per_page=3)[0] == paper.id
    neighbours = _similar(seeded, engine, paper.id)
    assert paper.id not in neighbours and len(neighbours) == 8


@pytest.mark.postgres_only
def test_pgvector_vectors_of_reads_the_stored_vectors(settings, db):
    engine = SearchEngine(settings)
    paper = make_paper(db)
    vector = np.linspace(-1, 1, 8, dtype=np.float32)
    store_vectors(db=db, model=engine.model, rows=[(paper.id, "h", vector)])
    db.commit()
    dense = engine.prepare(db)
    assert engine.has_vectors
    np.testing.assert_array_equal(dense.vectors_of([paper.id, paper.id + 1000])[paper.id], vector)
    assert dense.search(vector, limit=1) == [(paper.id, pytest.approx(1.0, abs=1e-6))]


def test_the_in_process_index_searches_on_the_embeddings_thread_and_pgvector_on_the_requests(
        settings, seeded, monkeypatch):
    """The nearest-neighbour step overlaps BM25 only where it may leave the request's thread."""
    import threading

    engine = SearchEngine(settings)
    expected = _ids(seeded, engine, q="sigmoid gate after attention output", per_page=10)  # warms the model
    with seeded.session() as db:
        backend = type(engine.prepare(db))  # pgvector answers through a new object per request
        seen: list[str] = []
        search = backend.search

        def recording(self, query, *, limit):
            seen.append(threading.current_thread().name)
            return search(self, query, limit=limit)

        monkeypatch.setattr(backend, "search", recording)
        hits = search_papers(db=db, engine=engine, request=SearchRequest(q="sigmoid gate after attention output",
                                                                          per_page=10)).hits
    assert [hit.card.id for hit in hits] == expected
    on_worker = seen == [t for t in seen if t.startswith("dailypapers-embed")]
    assert len(seen) == 1 and on_worker == (engine.vector_backend == "memory")
