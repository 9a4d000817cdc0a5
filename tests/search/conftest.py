"""One catalog per module for the acceptance tests: the bundled seed pages + the real HF dataset."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dailypapers.search.engine import SearchEngine
from dailypapers.settings import Settings
from dailypapers.store.db import Database
from tests.conftest import MODEL_CACHE, copy_of_catalog, drop_copy


@dataclass
class Catalog:
    settings: Settings
    database: Database
    engine: SearchEngine


@pytest.fixture(scope="module")
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            catalog_source: str) -> Iterator[Catalog]:
    """11,196 papers; vectors only for the seed papers (the bundled sample vectors, no model run).
    A module's own copy: what one module changes, the next does not see."""
    tmp = tmp_path_factory.mktemp("catalog")
    url = copy_of_catalog(request, catalog_source, tmp / "catalog.db")
    settings = Settings(database_url=url, environment="test", data_dir=tmp / "var", load_sample=False,
                        search_model_cache_dir=MODEL_CACHE)
    database = Database(url)
    yield Catalog(settings, database, SearchEngine(settings))
    database.dispose()
    drop_copy(request, url)
