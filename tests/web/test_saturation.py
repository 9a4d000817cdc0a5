"""A saturated database answers 503 with Retry-After within ``db_pool_timeout`` (it never hangs
for 30 s and never turns into a 500), and the web worker's pool is sized from its threads."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import ExitStack

from fastapi.testclient import TestClient

from dailypapers.store.db import BACKGROUND_CONNECTIONS
from dailypapers.web.app import create_app
from tests.factories import make_paper


def test_pool_is_sized_from_the_thread_count(settings, database):
    import anyio.to_thread

    app = create_app(settings.model_copy(update={"web_threads": 7}))
    with TestClient(app) as client:
        pool = app.state.db.engine.pool
        assert pool.size() == 7 + BACKGROUND_CONNECTIONS
        assert pool.timeout() == settings.db_pool_timeout

        async def tokens() -> float:  # the limiter is per event loop: read it in the app's loop
            return anyio.to_thread.current_default_thread_limiter().total_tokens

        assert client.portal is not None
        assert client.portal.call(tokens) == 7


def test_no_free_connection_is_a_quick_503_with_retry_after(settings, database, db):
    make_paper(db, featured_on=dt.date(2026, 1, 5))
    app = create_app(settings.model_copy(update={"web_threads": 1, "db_pool_timeout": 0.5,
                                                 "page_cache_seconds": 0}))
    with TestClient(app) as client, ExitStack() as held:
        assert client.get("/api/daily_papers").status_code == 200
        engine = app.state.db.engine
        for _ in range(1 + BACKGROUND_CONNECTIONS):  # every connection of the pool taken
            held.enter_context(engine.connect())
        began = time.monotonic()
        busy = client.get("/api/daily_papers")
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "2"
        assert "busy" in busy.json()["error"]
        assert time.monotonic() - began < 10  # the pool timeout, not 30 s
        page = client.get("/papers/date/2026-01-05")
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        held.close()
        assert client.get("/api/daily_papers").status_code == 200
