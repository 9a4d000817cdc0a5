"""Engines and migrations on both backends."""

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from dailypapers.store import Paper
from dailypapers.store.base import Base
from dailypapers.store.db import MIGRATIONS_DIR, Database, alembic_config, normalize_url
from tests.factories import make_paper


def test_plain_postgresql_urls_mean_psycopg_3():
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u:p@h:5433/db") == "postgresql+psycopg://u:p@h:5433/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_migration_history_has_exactly_one_head():
    # A second head means two migrations named the same parent: merge them (see 0018).
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    assert len(heads) == 1, f"migration heads {sorted(heads)}: add a merge revision"


def test_an_empty_database_migrates_to_the_single_head_and_again_changes_nothing(make_db_url):
    database = Database(make_db_url())
    try:
        database.migrate()
        heads = set(ScriptDirectory.from_config(alembic_config(database.engine)).get_heads())
        with database.engine.connect() as conn:
            applied = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        assert applied == heads and len(heads) == 1
        assert {t.name for t in Base.metadata.sorted_tables} <= set(
            inspect(database.engine).get_table_names())
        database.migrate()
        with database.engine.connect() as conn:
            assert set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == heads
    finally:
        database.dispose()


@pytest.mark.sqlite_only
def test_sqlite_files_run_in_wal_mode_with_foreign_keys(database):
    with database.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.postgres_only
def test_postgres_engines_pool_with_pre_ping_and_name_their_connections(database):
    pool = database.engine.pool
    assert pool.size() == 5 and database.engine.pool._pre_ping
    with database.engine.connect() as conn:
        assert conn.execute(text("SHOW application_name")).scalar() == "dailypapers"
        # Generic plans of prepared IN-lists scan linearly; every query is planned with its values.
        assert conn.connection.dbapi_connection.prepare_threshold is None
        assert conn.execute(text(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar()


@pytest.mark.postgres_only
def test_the_pgvector_revision_downgrades_and_upgrades_again(database):
    cfg = alembic_config(database.engine)
    command.downgrade(cfg, "0007@0001")
    columns = {c["name"] for c in inspect(database.engine).get_columns("embeddings")}
    assert "embedding" not in columns and "vector" in columns
    database.migrate()
    columns = {c["name"] for c in inspect(database.engine).get_columns("embeddings")}
    assert "embedding" in columns


PREVIOUS_HEADS = ("0007", "0008", "0010", "0011", "0017")


def test_a_database_at_the_previous_heads_upgrades_to_the_merge_revision(make_db_url):
    # Installations migrated before 0018 sit at five heads; the merge must take them to one.
    database = Database(make_db_url(migrated=False))
    try:
        cfg = alembic_config(database.engine)
        for head in PREVIOUS_HEADS:
            command.upgrade(cfg, head)
        with database.engine.connect() as conn:
            before = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        assert before == set(PREVIOUS_HEADS)
        command.upgrade(cfg, "0018")  # the merge itself (later revisions build on it)
        with database.engine.connect() as conn:
            assert list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == ["0018"]
    finally:
        database.dispose()


def test_a_lookup_with_a_nul_character_finds_nothing_instead_of_failing(db):
    make_paper(db, arxiv_id="2501.00077")
    assert db.scalar(select(Paper).where(Paper.key == "\x00")) is None
    assert db.scalars(select(Paper.key).where(Paper.key.in_(["\x00", "2501.00077"]))).all() == [
        "2501.00077"]


@pytest.mark.postgres_only
def test_postgres_drops_nul_characters_that_it_cannot_store(db):
    paper = make_paper(db, title="Nul\x00 title", abstract="An abstract\x00 with a NUL.")
    db.expire_all()
    stored = db.get(Paper, paper.id)
    assert (stored.title, stored.abstract) == ("Nul title", "An abstract with a NUL.")


def test_the_freshness_checks_of_both_vector_tables_read_an_index(database: Database):
    """``max(created_at)`` of a model is asked before every semantic query (embeddings) and on
    every paper page (sentence_embeddings, similar papers' version): both read a (model,
    created_at) index instead of scanning a row per paper."""
    found = inspect(database.engine)
    for table in ("embeddings", "sentence_embeddings"):
        columns = [ix["column_names"] for ix in found.get_indexes(table)]
        assert ["model", "created_at"] in columns, table
    if database.engine.dialect.name == "sqlite":
        with database.engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT max(created_at) FROM sentence_embeddings WHERE model = 'm'")))
        assert "ix_sentence_embeddings_model_created_at" in plan, plan
