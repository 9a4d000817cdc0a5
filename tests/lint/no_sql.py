"""Routes, commands and MCP tools hold no SQL (docs/architecture.md): a check run by ``make lint``.

``python -m tests.lint.no_sql [PATH...]`` (default: ``src/dailypapers/web``,
``src/dailypapers/cli`` and ``src/dailypapers/mcp``) reads every module and reports, as ``file:line: reason``:

- an import from SQLAlchemy other than the session type, its exceptions and URL parsing (so no
  ``select``, ``text``, ``func``, ``update``, ``Table``, ``import sqlalchemy``...);
- a call that runs SQL through a session: ``.execute``, ``.exec_driver_sql``, ``.scalar``,
  ``.scalars``, ``.query``, and ``.get(Model, ...)`` (a capitalised class as first argument);
- a string that reads as SQL (``SELECT … FROM``, ``INSERT INTO``, ``UPDATE … SET``,
  ``DELETE FROM``, in capitals).

import-linter cannot say this: it sees ``from sqlalchemy import select`` as an import of the
package ``sqlalchemy``, which routes need for ``Session``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATHS = tuple(ROOT / "src" / "dailypapers" / layer for layer in ("web", "cli", "mcp"))

# What a route, a command or a tool may take from SQLAlchemy: types and errors, nothing that builds SQL.
ALLOWED = {
    "sqlalchemy.orm": {"Session"},
    "sqlalchemy": {"make_url"},
    "sqlalchemy.engine": {"make_url", "URL"},
}
ALLOWED_MODULES = {"sqlalchemy.exc"}
SQL_METHODS = {"execute", "exec_driver_sql", "scalar", "scalars", "query"}
SQL_TEXT = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b"
                      r"|\bDELETE\s+FROM\b")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _is_sqlalchemy(module: str) -> bool:
    return module == "sqlalchemy" or module.startswith("sqlalchemy.")


def _is_model(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    # A class (``Paper``), not a constant (``COOKIE``) or a variable.
    return bool(name) and name[0].isupper() and not name.isupper()


def find_sql(source: str, path: Path) -> list[Finding]:
    """Every place in one module's ``source`` that writes or runs SQL, in line order."""
    return sorted(_find(source, path), key=lambda f: f.line)


def _find(source: str, path: Path) -> Iterator[Finding]:
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sqlalchemy(alias.name) and alias.name not in ALLOWED_MODULES:
                    yield Finding(path, node.lineno, f"import {alias.name}: SQL belongs in services")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            module = node.module
            if not _is_sqlalchemy(module) or module in ALLOWED_MODULES:
                continue
            for alias in node.names:
                if alias.name not in ALLOWED.get(module, set()):
                    yield Finding(path, node.lineno,
                                  f"from {module} import {alias.name}: SQL belongs in services")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in SQL_METHODS or (method == "get" and node.args and _is_model(node.args[0])):
                yield Finding(path, node.lineno, f".{method}(...) runs SQL: call a service function")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.search(node.value):
            yield Finding(path, node.lineno, "a string of SQL: SQL belongs in services")


def modules(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def check(paths: Iterable[Path]) -> list[Finding]:
    return [finding for module in modules(paths)
            for finding in find_sql(module.read_text(encoding="utf-8"), module)]


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or list(DEFAULT_PATHS)
    findings = check(paths)
    for finding in findings:
        print(finding)
    print(f"no-sql: {len(findings)} finding(s) in {sum(1 for _ in modules(paths))} modules",
          file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
