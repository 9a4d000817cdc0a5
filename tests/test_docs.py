"""The docs keep up with the code: every setting and every command (with its options) is documented.

Like datasette's tests/test_docs.py. When one of these fails, document the new setting in
docs/settings.md (a table row) or the new command in docs/cli.md (a heading with its options).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from dailypapers.cli import main
from dailypapers.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"
SETTING_ROW = re.compile(r"^\|\s*`(DAILYPAPERS_[A-Z0-9_]+)`\s*\|", re.MULTILINE)
COMMAND_HEADING = re.compile(r"^#{2,4} `(dailypapers(?: [a-z0-9-]+)*)`\s*$", re.MULTILINE)


def _commands(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from _commands(sub, f"{path} {name}")


COMMANDS = dict(_commands(main, "dailypapers"))


def _settings_doc() -> str:
    return (DOCS / "settings.md").read_text(encoding="utf-8")


def _cli_sections() -> dict[str, str]:
    """Command path → the text of its section in docs/cli.md (up to the next command heading)."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    headings = list(COMMAND_HEADING.finditer(text))
    return {m.group(1): text[m.end(): nxt.start() if nxt else len(text)]
            for m, nxt in zip(headings, [*headings[1:], None], strict=True)}


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_documented(name: str):
    env = f"DAILYPAPERS_{name.upper()}"
    assert env in SETTING_ROW.findall(_settings_doc()), f"add a `{env}` row to docs/settings.md"
    assert Settings.model_fields[name].description, f"Settings.{name} needs description="


def test_every_documented_setting_exists():
    known = {f"DAILYPAPERS_{name.upper()}" for name in Settings.model_fields}
    stale = [env for env in SETTING_ROW.findall(_settings_doc()) if env not in known]
    assert stale == [], f"docs/settings.md documents settings that do not exist: {stale}"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_command_and_its_options_are_documented(path: str):
    sections = _cli_sections()
    assert path in sections, f"add a heading `## \\`{path}\\`` to docs/cli.md"
    options = [opt for param in COMMANDS[path].params if isinstance(param, click.Option)
               for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--")]
    missing = [opt for opt in options if not re.search(rf"`{re.escape(opt)}`", sections[path])]
    assert missing == [], f"docs/cli.md, section {path}: document {missing}"


def test_every_documented_command_exists():
    stale = [path for path in _cli_sections() if path not in COMMANDS]
    assert stale == [], f"docs/cli.md documents commands that do not exist: {stale}"


def test_the_walk_sees_nested_commands():
    # Guards the test itself: if the walk stopped at the top level, nothing above would check much.
    assert {"dailypapers import arxiv", "dailypapers db migrate", "dailypapers serve"} <= set(COMMANDS)
