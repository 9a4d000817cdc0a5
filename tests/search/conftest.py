"""One catalog per module for the acceptance tests: the bundled seed pages + the real HF dataset."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

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


@pytest.fixture(scope="module")
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """11,196 papers; vectors only for the seed papers (the bundled sample vectors, no model run)."""
    tmp = tmp_path_factory.mktemp("catalog")
    pg = request.getfixturevalue("pg_databases") if BACKEND == "postgres" else None
    url = (pg.new(migrated=True) if pg
           else migrated_sqlite_url(request.getfixturevalue("sqlite_template"), tmp / "catalog.db"))
    settings = Settings(database_url=url, environment="test", data_dir=tmp / "var", load_sample=False,
                        search_model_cache_dir=MODEL_CACHE)
    database = Database(url)
    with database.session() as db:
        import_seeds(db=db, paths=sample_paths(), year=SAMPLE_YEAR)
        import_jsonl(db=db, paths=[HF_JSONL])
    yield Catalog(settings, database, SearchEngine(settings))
    database.dispose()
    if pg:
        pg.drop(url.rsplit("/", 1)[1])
