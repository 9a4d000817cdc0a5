import json
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from dailypapers.cli import COMMANDS, main
from tests.conftest import SEEDS


def _run(db_url: str, *args: str):
    return CliRunner().invoke(main, list(args), env={"DAILYPAPERS_DATABASE_URL": db_url},
                              catch_exceptions=False)


def test_export_import_round_trips_exactly(tmp_path: Path, catalog_url, make_db_url):
    # The first catalog (the seed pages + the HF dataset) is the run's shared copy, imported once
    # by the services these commands call; `import jsonl` of 11k papers is the second half here.
    first = catalog_url
    second = make_db_url()
    exported = tmp_path / "out.jsonl"
    assert _run(first, "export", str(exported)).exit_code == 0
    assert _run(second, "import", "jsonl", str(exported)).exit_code == 0
    again = _run(second, "export")
    assert again.exit_code == 0
    assert again.stdout_bytes == exported.read_bytes()
    lines = exported.read_bytes().splitlines()
    assert len(lines) == 11027 + 183 - 14  # 14 seed cards are papers of the HF dataset
    assert any(json.loads(line)["key"] for line in lines)


def test_rejected_lines_make_the_command_fail_but_import_the_rest(tmp_path: Path, make_db_url):
    url = make_db_url()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"arxiv_id": "2401.00001", "title": "Fine"}\nnot json\n')
    result = _run(url, "import", "jsonl", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2" in result.stderr
    assert "1 created" in result.stderr
    exported = _run(url, "export").stdout
    assert json.loads(exported)["title"] == "Fine"


def test_second_seed_import_changes_nothing(tmp_path: Path, make_db_url):
    url = make_db_url()
    _run(url, "import", "seeds", "--year", "2025", *map(str, SEEDS))
    result = _run(url, "import", "seeds", "--year", "2025", *map(str, SEEDS))
    assert "0 created, 0 updated, 183 unchanged, 0 rejected" in result.stderr


ARXIV = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"


def test_import_arxiv_is_idempotent_and_reports_malformed_entries(tmp_path: Path, make_db_url):
    url = make_db_url()
    good = [str(ARXIV / "search_quantum_criticality.xml"), str(ARXIV / "id_list_1111.2011v2.xml")]
    first = _run(url, "import", "arxiv", *good)
    assert first.exit_code == 0, first.stderr
    assert "2 created, 0 updated, 0 unchanged, 0 rejected" in first.stderr
    again = _run(url, "import", "arxiv", *good)
    assert "0 created, 0 updated, 2 unchanged, 0 rejected" in again.stderr
    bad = _run(url, "import", "arxiv", str(ARXIV / "constructed_malformed.xml"))
    assert bad.exit_code == 1
    for line in (10, 48, 67):
        assert f"{ARXIV / 'constructed_malformed.xml'}:{line}:" in bad.stderr
    exported = [json.loads(line) for line in _run(url, "export").stdout.splitlines()]
    assert {(p["arxiv_id"], p["version"]) for p in exported} == {
        ("1111.2011", 2), ("cond-mat/0607501", 2), ("1605.08386", 1)}


def test_rejected_report_prints_paths_verbatim(tmp_path: Path, make_db_url):
    url = make_db_url()
    bad = tmp_path / "[bold]papers.jsonl"
    bad.write_text('{"title": "[red]x[/red]", "arxiv_id": "[link]"}\n')
    result = _run(url, "import", "jsonl", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:1: not an arXiv id: '[link]'" in result.stderr


def test_export_writes_only_json_lines_to_stdout(tmp_path: Path, make_db_url):
    url = make_db_url()
    _run(url, "import", "seeds", "--year", "2025", *map(str, SEEDS))
    result = _run(url, "export")
    lines = result.stdout.splitlines()
    assert len(lines) == 183 and all(json.loads(line)["title"] for line in lines)


def test_the_help_listing_matches_each_command():
    """`dailypapers --help` lists commands without importing them: its lines must not drift."""
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name, (_, line) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=1000) == line
    assert main.get_command(ctx, "no-such-command") is None


def test_help_imports_no_command_module():
    """No database, web, search or password library is loaded to print the command list."""
    code = ("import sys\nfrom click.testing import CliRunner\nfrom dailypapers.cli import main\n"
            "result = CliRunner().invoke(main, ['--help'])\nassert result.exit_code == 0, result.output\n"
            "assert 'search  ' in result.output\n"
            "print(' '.join(m for m in ('sqlalchemy', 'numpy', 'fastapi', 'argon2', 'pydantic', 'rich',"
            " 'dailypapers.cli.context', 'dailypapers.store') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
