"""/mcp inside the app: a lifespan that runs twice (a test client per block) serves it each time,
and without a running lifespan it answers 503, not a crash."""

from __future__ import annotations

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
