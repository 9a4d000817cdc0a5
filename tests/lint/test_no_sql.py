"""The no-SQL check of routes and commands finds SQL wherever it is written, and the tree has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.no_sql import DEFAULT_PATHS, check, find_sql, main

ROUTE = Path("web/routes/example.py")


@pytest.mark.parametrize("source", [
    "from sqlalchemy import select\n",
    "from sqlalchemy import func, text\n",
    "from sqlalchemy.sql import expression\n",
    "from sqlalchemy.orm import Session, joinedload\n",
    "import sqlalchemy as sa\n",
    "import sqlalchemy.sql\n",
    "def page(db):\n    return db.execute(stmt)\n",
    "def page(db):\n    return db.scalar(stmt)\n",
    "def page(session):\n    return session.scalars(stmt).all()\n",
    "def page(db):\n    return db.query(Paper).all()\n",
    "def page(db, pid):\n    return db.get(Paper, pid)\n",
    "def page(db, pid):\n    return db.get(store.Paper, pid)\n",
    "def page(conn):\n    return conn.exec_driver_sql(q)\n",
    "Q = 'SELECT id FROM papers WHERE key = ?'\n",
    "Q = '''\n    INSERT INTO votes (user_id) VALUES (1)'''\n",
    "Q = 'UPDATE papers SET upvotes = 0'\n",
    "Q = 'DELETE FROM votes'\n",
])
def test_sql_in_a_route_is_found(source: str):
    findings = find_sql(source, ROUTE)
    assert findings, source
    assert all(f.path == ROUTE and f.line >= 1 for f in findings)


@pytest.mark.parametrize("source", [
    "from sqlalchemy.orm import Session\n",
    "from sqlalchemy.exc import IntegrityError, OperationalError\n",
    "from sqlalchemy import make_url\n",
    "def page(request):\n    return request.cookies.get(COOKIE)\n",
    "def page(form):\n    return form.get('title', '')\n",
    "MESSAGE = 'Select the papers you want from the list and press delete.'\n",
    "def page(db):\n    return services.papers.day(db=db)\n",
])
def test_what_routes_may_do_is_not_flagged(source: str):
    assert find_sql(source, ROUTE) == []


def test_findings_name_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    module = tmp_path / "routes.py"
    module.write_text("import os\n\n\ndef f(db):\n    return db.execute('x')\n")
    assert [str(f) for f in check([tmp_path])] == [f"{module}:5: .execute(...) runs SQL: call a service function"]
    assert main([str(tmp_path)]) == 1
    assert f"{module}:5:" in capsys.readouterr().out


def test_routes_and_commands_hold_no_sql():
    assert all(path.is_dir() for path in DEFAULT_PATHS)
    assert [str(f) for f in check(DEFAULT_PATHS)] == []
