"""Search indexes belong to the database they were built from: a database deleted and created
again at the same URL gets a new catalog id, and the next start rebuilds both in-process indexes
from it instead of answering with the old database's papers (real files, real databases)."""

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from dailypapers.search.embedder import store_vectors
from dailypapers.search.engine import SearchEngine
from dailypapers.search.query import parse_query
from dailypapers.settings import Settings
from dailypapers.store.catalog_identity import catalog_id_column
from dailypapers.store.db import Database
from tests.conftest import BACKEND, MODEL_CACHE
from tests.factories import make_paper

MODEL = "test-model"


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=16).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def same_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A database URL and a function that deletes that database and creates it again, empty and
    migrated, at the same URL (as `rm dailypapers.db` then the next start does)."""
    if BACKEND == "sqlite":
        path = tmp_path / "dailypapers.db"
        url = f"sqlite:///{path}"

        def recreate() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            _migrate(url)
    else:
        databases = request.getfixturevalue("pg_databases")
        url = databases.new(migrated=False)
        name = make_url(url).database

        def recreate() -> None:
            databases.drop(name)
            databases._create(name, "template0")
            _migrate(url)

    _migrate(url)
    yield url, recreate
    if BACKEND != "sqlite":
        databases.drop(name)


def _migrate(url: str) -> None:
    database = Database(url)
    database.migrate()
    database.dispose()


def _start(url: str, data_dir: Path, fill) -> tuple[SearchEngine, list[int], str]:
    """One process's life: open the database, write what ``fill`` writes, bring the indexes up to
    date as ``serve`` does at start."""
    settings = Settings(database_url=url, environment="test", data_dir=data_dir, load_sample=False,
                        search_model_cache_dir=MODEL_CACHE, search_embedding_model=MODEL,
                        search_vector_backend="memory")
    database = Database(url)
    try:
        with database.session() as db:
            ids = fill(db)
            catalog = db.scalar(select(catalog_id_column()))
            engine = SearchEngine(settings)
            engine.keyword.catch_up(db)
            engine.vectors.sync(db)
    finally:
        database.dispose()
    return engine, ids, catalog


def _words(engine: SearchEngine, text: str) -> list[int]:
    return [pid for pid, _ in engine.keyword.search(parse_query(text), limit=10)]


def _old(db) -> list[int]:
    papers = [make_paper(db, title=f"Quokka routing study {i}", abstract="Marsupials.") for i in range(5)]
    store_vectors(db=db, model=MODEL, rows=[(p.id, f"h{p.id}", _unit(i)) for i, p in enumerate(papers)])
    db.commit()
    return [p.id for p in papers]


def _new(db) -> list[int]:
    papers = [make_paper(db, title=f"Wombat burrows {i}", abstract="Digging.") for i in range(2)]
    store_vectors(db=db, model=MODEL, rows=[(p.id, f"h{p.id}", _unit(100 + i)) for i, p in enumerate(papers)])
    db.commit()
    return [p.id for p in papers]


def test_a_recreated_database_gets_indexes_of_its_own(same_url, tmp_path):
    url, recreate = same_url
    data_dir = tmp_path / "var"
    first, old_ids, old_catalog = _start(url, data_dir, _old)
    assert first.keyword.num_docs == 5 and first.vectors.count == 5
    assert sorted(_words(first, "quokka")) == sorted(old_ids)

    recreate()  # same URL, same data_dir, a new database
    second, new_ids, new_catalog = _start(url, data_dir, _new)
    assert new_catalog != old_catalog
    assert len(new_catalog) == 32 and int(new_catalog, 16) >= 0  # written by migration 0019
    # The ids restart at 1 in the new database: without the catalog id the old documents (ids
    # 1..5) would stay in the index and answer for papers they are not.
    assert second.keyword.num_docs == 2
    assert _words(second, "quokka") == []
    assert sorted(_words(second, "wombat")) == sorted(new_ids)
    assert second.vectors.count == 2
    assert second.vectors.search(_unit(101), limit=1)[0][0] == new_ids[1]
    assert all(pid in new_ids for pid, _ in second.vectors.search(_unit(0), limit=5))

    # A third start on the same database trusts what is on disk: nothing is indexed again.
    third, _, _ = _start(url, data_dir, lambda db: [])
    assert third.keyword.catalog == new_catalog and third.vectors.catalog == new_catalog
    assert third.keyword.num_docs == 2 and third.vectors.count == 2


def test_a_recreated_empty_database_empties_the_indexes(same_url, tmp_path):
    url, recreate = same_url
    data_dir = tmp_path / "var"
    first, _, _ = _start(url, data_dir, _old)
    assert first.keyword.num_docs == 5
    recreate()
    second, _, _ = _start(url, data_dir, lambda db: [])
    assert second.keyword.num_docs == 0
    assert _words(second, "quokka") == []
    assert second.vectors.count == 0
