"""``dailypapers db migrate`` and ``dailypapers db copy`` through the real command line."""

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import inspect

from dailypapers.cli import main
from dailypapers.store.db import Database
from tests.conftest import SEEDS


def _run(*args: str, db_url: str = "sqlite:///unused.db"):
    return CliRunner().invoke(main, list(args), env={"DAILYPAPERS_DATABASE_URL": db_url},
                              catch_exceptions=False)


def test_migrate_creates_the_schema_on_an_empty_database(make_db_url):
    url = make_db_url()
    result = _run("db", "migrate", db_url=url)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stderr
    database = Database(url)
    try:
        assert {"papers", "embeddings", "alembic_version"} <= set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def test_copy_to_an_empty_database_then_both_export_the_same(tmp_path: Path, make_db_url):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    assert _run("import", "seeds", "--year", "2025", *map(str, SEEDS), db_url=source).exit_code == 0
    target = make_db_url()  # empty: the copy migrates it

    result = _run("db", "copy", "--from", source, "--to", target, "--batch-size", "50")
    assert result.exit_code == 0, result.output
    assert "papers: 183 rows" in result.stderr
    assert "counts verified" in result.stderr
    assert _run("export", db_url=target).stdout_bytes == _run("export", db_url=source).stdout_bytes

    again = _run("db", "copy", "--from", source, "--to", target)
    assert again.exit_code == 1
    assert "not empty" in again.stderr and "--replace" in again.stderr
    replaced = _run("db", "copy", "--from", source, "--to", target, "--replace")
    assert replaced.exit_code == 0, replaced.output


def test_copy_refuses_bad_arguments_before_touching_anything(tmp_path: Path):
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    target = f"sqlite:///{tmp_path / 'target.db'}"
    result = _run("db", "copy", "--from", missing, "--to", target)
    assert result.exit_code == 2
    assert "no SQLite database file" in result.stderr
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "target.db").exists()

    same = _run("db", "copy", "--from", target, "--to", target)
    assert same.exit_code == 2 and "same database" in same.stderr
    other = _run("db", "copy", "--from", "mysql://x/y", "--to", target)
    assert other.exit_code == 2 and "only sqlite" in other.stderr
