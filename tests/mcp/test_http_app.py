"""/mcp inside the app: a lifespan that runs twice (a test client per block) serves it each time,
and without a running lifespan it answers 503, not a crash."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient

from dailypapers.settings import Settings
from dailypapers.store.db import Database
from dailypapers.web.app import create_app

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}


def test_each_run_of_the_lifespan_serves_mcp(settings: Settings, database: Database):
    app = create_app(settings, database)
    for _ in range(2):
        with TestClient(app) as client:
            answer = client.post("/mcp", json=LIST_TOOLS, headers=HEADERS)
            assert answer.status_code == 200, answer.text
            assert "search_papers" in {tool["name"] for tool in answer.json()["result"]["tools"]}
            assert client.get("/mcp").status_code == 405
    stopped = TestClient(app).post("/mcp", json=LIST_TOOLS, headers=HEADERS)
    assert stopped.status_code == 503 and stopped.json() == {"error": "the MCP endpoint is not running"}


def test_building_the_app_does_not_import_the_mcp_sdk(settings: Settings):
    # The SDK costs each web worker ~0.4 s of CPU and ~20 MB at start; /mcp imports it on first use.
    # A fresh interpreter, since this one has imported it already for the other tests.
    script = (
        "import sys\n"
        "from dailypapers.settings import Settings\n"
        "from dailypapers.web.app import create_app\n"
        "create_app(Settings())\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'mcp_types'))))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
           "DAILYPAPERS_DATABASE_URL": settings.database_url, "DAILYPAPERS_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
