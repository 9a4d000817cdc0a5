"""``dailypapers serve`` brings the search indexes up to date before its workers start, so the
first paper page or search on a fresh data_dir does not build them on the request path."""

import datetime as dt

import httpx

from tests.factories import make_paper
from tests.server import running_server


def test_indexes_exist_before_the_first_request_and_first_requests_answer(settings, db):
    paper = make_paper(db, title="Sparse attention for long documents", featured_on=dt.date(2025, 1, 6))
    make_paper(db, title="Dense attention revisited", featured_on=dt.date(2025, 1, 6))
    keyword_dir = settings.data_dir / "search" / "keyword"
    assert not keyword_dir.exists()  # a fresh data_dir

    with running_server(settings) as url:
        # Ready means serve has answered /healthz only: no page or search has been asked yet.
        assert keyword_dir.is_dir() and any(keyword_dir.iterdir())
        with httpx.Client(base_url=url, timeout=30) as client:
            page = client.get(f"/papers/{paper.key}")
            assert page.status_code == 200 and "Sparse attention" in page.text
            found = client.get("/search", params={"q": "sparse attention"})
            assert found.status_code == 200 and f'href="/papers/{paper.key}"' in found.text
            api = client.get("/api/papers/search", params={"q": "attention", "mode": "semantic"})
            assert api.status_code == 200 and isinstance(api.json(), list)


def test_a_search_while_the_model_warms_up_uses_keywords_and_says_so(settings, database, db):
    """Deterministic: the warm-up thread is held at the model's first query until released."""
    import threading

    from fastapi.testclient import TestClient

    from dailypapers.web.app import create_app

    paper = make_paper(db, title="Sparse attention for long documents", featured_on=dt.date(2025, 1, 6))
    app = create_app(settings.model_copy(update={"page_cache_seconds": 0}), database, warm_model=True)
    engine = app.state.search
    release = threading.Event()
    loaded = engine.provider.embed_query

    def held_embed_query(text: str):
        release.wait(30)
        return loaded(text)

    engine.provider.embed_query = held_embed_query  # hold the real model load, not replace it
    with TestClient(app) as client:
        try:
            assert engine.model_warming
            hybrid = client.get("/search", params={"q": "sparse attention"})
            assert hybrid.status_code == 200 and f'href="/papers/{paper.key}"' in hybrid.text
            semantic = client.get("/search", params={"q": "sparse attention", "mode": "semantic"})
            assert semantic.status_code == 200 and "still starting up" in semantic.text
        finally:
            release.set()
            assert engine.wait_for_model(120)
    assert not engine.model_warming
