"""One place that builds real databases for the tests: a real SQLite file, or a real PostgreSQL
database, per test (DAILYPAPERS_TEST_BACKEND picks; see docs/postgresql.md)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from dailypapers.store.db import Database

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = sorted((SHARED / "seeds").glob("*.txt"))
HF_JSONL = SHARED / "data" / "hf_daily_papers.jsonl"
HF_API = sorted((SHARED / "data" / "hf_api").glob("*.json"))
FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# The ONNX export of the embedding model is made once and shared by every test (it takes seconds).
MODEL_CACHE = ARTIFACTS / "models"


# Which database engine every fixture below builds: "sqlite" (default) or "postgres", which needs
# DAILYPAPERS_TEST_POSTGRES_URL (a server with pgvector; `make test` runs both when it is set).
BACKEND = os.environ.get("DAILYPAPERS_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("DAILYPAPERS_TEST_POSTGRES_URL", "")
# Settings refuse the default secret outside development; every test process (and the servers it
# starts, which inherit the environment) signs with this one.
os.environ.setdefault("DAILYPAPERS_SECRET_KEY", "test-only-secret-not-for-production-0123456789abcdef")
# The test process hashes passwords with cheap argon2 parameters (services/accounts.py: the
# production ones cost ~0.24 s of CPU a hash, and the suite makes thousands); servers it starts get
# environment=test from their Settings.
os.environ["DAILYPAPERS_ENVIRONMENT"] = "test"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: inherently SQLite-specific (not run on PostgreSQL)")
    config.addinivalue_line("markers", "postgres_only: PostgreSQL features such as pgvector (not run on SQLite)")
    if BACKEND not in {"sqlite", "postgres"}:
        raise pytest.UsageError(f"DAILYPAPERS_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
    if BACKEND == "postgres":
        # Missing PostgreSQL is a failure, never a reason to skip.
        if not POSTGRES_URL:
            raise pytest.UsageError("DAILYPAPERS_TEST_BACKEND=postgres needs DAILYPAPERS_TEST_POSTGRES_URL")
        from tests.pg import check_server

        try:
            check_server(POSTGRES_URL)
        except RuntimeError as exc:
            raise pytest.UsageError(str(exc)) from exc


def pytest_report_header(config: pytest.Config) -> str:
    return f"dailypapers test backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    other = "sqlite_only" if BACKEND == "postgres" else "postgres_only"
    kept = [item for item in items if item.get_closest_marker(other) is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def pg_databases():
    """The per-test database factory of the PostgreSQL backend (see tests/pg.py)."""
    if BACKEND != "postgres":
        raise RuntimeError("pg_databases is only available with DAILYPAPERS_TEST_BACKEND=postgres")
    from tests.pg import TestDatabases

    databases = TestDatabases(POSTGRES_URL)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run: each test copies it (0.3 ms) instead of migrating a
    new file (70-110 ms on a quiet machine, a second and more on a busy one)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()  # the last connection checkpoints the WAL: the copy is the whole database
    for suffix in ("-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            raise RuntimeError(f"{path}{suffix} left behind: the template would be incomplete")
    return path


def migrated_sqlite_url(template: Path, path: Path) -> str:
    """A new SQLite database at ``path``, at the newest schema (a copy of the template)."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Factory of extra isolated databases on the test backend: ``make_db_url()`` is empty
    (unmigrated), ``make_db_url(migrated=True)`` is already at the newest schema."""
    made: list[str] = []
    databases = request.getfixturevalue("pg_databases") if BACKEND == "postgres" else None

    def make(*, migrated: bool = False) -> str:
        if databases is None:
            path = tmp_path / f"extra-{len(made)}.db"
            url = (migrated_sqlite_url(request.getfixturevalue("sqlite_template"), path)
                   if migrated else f"sqlite:///{path}")
        else:
            url = databases.new(migrated=migrated)
        made.append(url)
        return url

    yield make
    if databases is not None:
        for url in made:
            databases.drop(url.rsplit("/", 1)[1])


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The test's own database, already at the newest schema: on SQLite a copy of a template
    file, on PostgreSQL a database cloned from a template database; both migrated once per run."""
    if BACKEND == "sqlite":
        yield migrated_sqlite_url(request.getfixturevalue("sqlite_template"), tmp_path / "dailypapers.db")
        return
    with request.getfixturevalue("pg_databases").database() as url:
        yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, environment="test", data_dir=tmp_path / "var",
                    load_sample=False, search_model_cache_dir=MODEL_CACHE)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """The test's database (``db_url`` is already migrated: no Alembic run per test)."""
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    with database.session() as session:
        yield session


@pytest.fixture
def live_server(settings: Settings, database: Database):
    """Start ``dailypapers serve`` as a real process on a free loopback port; yields its base URL.

    The test fills the database (through ``db``) before or after the server starts; the server
    reads the same database.
    """
    from tests.server import running_server

    with running_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser).

    Module-scoped on purpose: Playwright's sync API keeps an asyncio loop running in the main
    thread while it is open, so a session-scoped browser made every later ``asyncio.run`` /
    ``anyio.run`` (the burst test, SDK clients) fail with "cannot be called from a running event
    loop" depending on test order. Closing it with its module costs one Chromium start per module.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def catalog_source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The imported catalog, made once per run: each module gets a copy (a file copy on SQLite,
    ``CREATE DATABASE … TEMPLATE`` on PostgreSQL) instead of importing the 11k papers again
    (7-8 s of setup per module on a busy machine)."""
    from dailypapers.services.imports import import_jsonl, import_seeds
    from dailypapers.services.sample import SAMPLE_YEAR, sample_paths

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


def copy_of_catalog(request: pytest.FixtureRequest, source: str, path: Path) -> str:
    """A copy of ``catalog_source`` of one's own: a file copy at ``path`` on SQLite, a database
    made from it as a template on PostgreSQL (``drop_copy`` removes it)."""
    if BACKEND == "postgres":
        return request.getfixturevalue("pg_databases").new(copy_of=make_url(source).database)
    shutil.copyfile(make_url(source).database or "", path)
    return f"sqlite:///{path}"


def drop_copy(request: pytest.FixtureRequest, url: str) -> None:
    if BACKEND == "postgres":
        request.getfixturevalue("pg_databases").drop(make_url(url).database or "")


@pytest.fixture
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path, catalog_source: str) -> Iterator[str]:
    """The test's own copy of the 11,196-paper catalog (the bundled seed pages + the HF dataset)."""
    url = copy_of_catalog(request, catalog_source, tmp_path / "catalog.db")
    yield url
    drop_copy(request, url)
