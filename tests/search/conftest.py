"""One catalog per module for the acceptance tests: the bundled seed pages + the real HF dataset."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dailypapers.search.engine import SearchEngine
from dailypapers.services.imports import import_jsonl, import_seeds
from dailypapers.services.sample import SAMPLE_YEAR, sample_paths
from dailypapers.settings import Settings
from dailypapers.store.db import Database
from tests.conftest import BACKEND, HF_JSONL, MODEL_CACHE, migrated_sqlite_url


@dataclass
class Catalog:
    settings: Settings
    database: Database
    engine: SearchEngine


@pytest.fixture(scope="session")
def catalog_source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The imported catalog, made once per run: each module gets a copy (a file copy on SQLite,
    ``CREATE DATABASE … TEMPLATE`` on PostgreSQL) instead of importing the 11k papers again
    (7-8 s of setup per module on a busy machine)."""
    pg = request.getfixturevalue("pg_databases") if BACKEND == "postgres" else None
    url = (pg.new(migrated=True) if pg else migrated_sqlite_url(
        request.getfixturevalue("sqlite_template"), tmp_path_factory.mktemp("catalog-source") / "catalog.db"))
    database = Database(url)
    try:
        with database.session() as db:
            import_seeds(db=db, paths=sample_paths(), year=SAMPLE_YEAR)
            import_jsonl(db=db, paths=[HF_JSONL])
    finally:
        # No connection may stay open: PostgreSQL copies only an idle template, and closing the
        # last SQLite connection checkpoints the WAL into the file that is copied.
        database.dispose()
    for suffix in ("-wal", "-shm"):
        if BACKEND == "sqlite" and Path(f"{make_url(url).database}{suffix}").exists():
            raise RuntimeError(f"{url}{suffix} left behind: the copies would be incomplete")
    yield url
    if pg:
        pg.drop(make_url(url).database or "")


@pytest.fixture(scope="module")
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            catalog_source: str) -> Iterator[Catalog]:
    """11,196 papers; vectors only for the seed papers (the bundled sample vectors, no model run).
    A module's own copy: what one module changes, the next does not see."""
    tmp = tmp_path_factory.mktemp("catalog")
    pg = request.getfixturevalue("pg_databases") if BACKEND == "postgres" else None
    if pg:
        url = pg.new(copy_of=make_url(catalog_source).database)
    else:
        shutil.copyfile(make_url(catalog_source).database or "", tmp / "catalog.db")
        url = f"sqlite:///{tmp / 'catalog.db'}"
    settings = Settings(database_url=url, environment="test", data_dir=tmp / "var", load_sample=False,
                        search_model_cache_dir=MODEL_CACHE)
    database = Database(url)
    yield Catalog(settings, database, SearchEngine(settings))
    database.dispose()
    if pg:
        pg.drop(make_url(url).database or "")
