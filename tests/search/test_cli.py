"""``dailypapers search``, ``embed`` and ``index rebuild`` through the click runner."""

from pathlib import Path

from click.testing import CliRunner

from dailypapers.cli import main
from tests.conftest import BACKEND, MODEL_CACHE, SEEDS


def _run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _env(settings):
    return {"DAILYPAPERS_DATABASE_URL": settings.database_url, "DAILYPAPERS_DATA_DIR": str(settings.data_dir),
            "DAILYPAPERS_SEARCH_MODEL_CACHE_DIR": str(MODEL_CACHE), "COLUMNS": "160"}


def test_search_prints_a_table_right_after_an_import(settings, database):
    env = _env(settings)
    assert _run(env, "import", "seeds", "--year", "2025", *map(str, SEEDS)).exit_code == 0
    # The import caught the keyword index up when it finished.
    assert (settings.data_dir / "search" / "keyword" / "dailypapers-state.json").exists()
    result = _run(env, "search", "sequence parallelism for linear attention", "--limit", "3", "--mode", "keyword")
    assert result.exit_code == 0
    first_row = next(line for line in result.stdout.splitlines() if line.startswith("│ 1 "))
    assert "LASP-2" in first_row


def test_search_refuses_bad_options_with_a_message(settings, database):
    result = CliRunner().invoke(main, ["search", "x", "--published-from", "2025-13-40"], env=_env(settings))
    assert result.exit_code == 2 and "not a date" in result.output
    result = CliRunner().invoke(main, ["search", "x", "--published-from", "2025-02-01",
                                       "--published-to", "2025-01-01"], env=_env(settings))
    assert result.exit_code == 2 and "ends before it starts" in result.output


def test_embed_uses_the_bundled_vectors_for_the_sample_and_index_rebuild(settings, database, tmp_path: Path):
    env = _env(settings)
    _run(env, "import", "seeds", "--year", "2025", *map(str, SEEDS))
    result = _run(env, "embed")
    assert result.exit_code == 0
    assert "0 embedded, 183 from the bundled sample" in result.stderr
    # On PostgreSQL the vectors stay in the table: embed makes sure their HNSW index exists.
    kind = "(exact)" if BACKEND == "sqlite" else "(pgvector, HNSW index ix_embeddings_hnsw_"
    assert f"vector index: 183 vectors {kind}" in result.stderr
    again = _run(env, "embed", "--export-bundle", str(tmp_path / "bundle"))
    assert "0 embedded, 0 from the bundled sample, 0 unchanged" in again.stderr
    assert (tmp_path / "bundle" / "sentence-transformers_all-MiniLM-L6-v2.npy").exists()
    rebuilt = _run(env, "index", "rebuild")
    assert rebuilt.exit_code == 0
    assert "keyword index: 183 papers" in rebuilt.stderr and "vector index: 183 vectors" in rebuilt.stderr
    hybrid = _run(env, "search", "a sigmoid gate on attention outputs", "--limit", "1")
    assert "Gated Attention for Large Language Models" in hybrid.stdout
