"""The in-process page cache: what it keeps, for how long, and what it never shares."""

import datetime as dt

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from dailypapers.web.app import create_app
from dailypapers.web.caching import PageCache, public_cache_control
from tests.factories import make_paper


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _app(clock: Clock, *, max_bytes: int = 1_000_000):
    calls: list[str] = []

    def page(request: Request) -> PlainTextResponse:
        name = request.path_params["name"]
        calls.append(name)
        headers = {"cache-control": public_cache_control(10)}
        if name == "private":
            headers = {"cache-control": "private, no-cache"}
        if name == "cookie":
            response = PlainTextResponse(f"{name} {len(calls)}", headers=headers)
            response.set_cookie("dp_session", "x")
            return response
        status = 404 if name == "missing" else 200
        body = "x" * 300 if name.startswith("big") else f"{name} {len(calls)}"
        return PlainTextResponse(body, headers=headers, status_code=status)

    inner = Starlette(routes=[Route("/{name}", page)])
    return TestClient(PageCache(inner, max_bytes=max_bytes, max_seconds=60, clock=clock)), calls


def test_public_pages_are_served_from_the_cache_until_they_expire():
    clock = Clock()
    client, calls = _app(clock)
    first = client.get("/a")
    second = client.get("/a")
    assert first.text == second.text == "a 1" and calls == ["a"]
    assert first.headers["etag"] == second.headers["etag"]
    assert client.get("/a?x=1").text == "a 2"  # the query string is part of the key
    clock.now += 9.9
    assert client.get("/a").text == "a 1"
    clock.now += 0.2  # past s-maxage=10
    assert client.get("/a").text == "a 3"


def test_if_none_match_gets_304_without_a_body():
    client, calls = _app(Clock())
    etag = client.get("/a").headers["etag"]
    revalidated = client.get("/a", headers={"if-none-match": etag})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == etag
    assert client.get("/a", headers={"if-none-match": '"other"'}).status_code == 200
    assert calls == ["a"]


def test_what_is_never_shared():
    client, calls = _app(Clock())
    for _ in range(2):
        client.get("/private")
        client.get("/cookie")
        client.get("/missing")
        client.get("/a", headers={"cookie": "dp_session=abc"})
        client.get("/b", headers={"authorization": "Bearer t"})
    assert calls == ["private", "cookie", "missing", "a", "b"] * 2
    client.post("/a")  # not a GET: passes through (405 from the inner app)


def test_the_byte_budget_evicts_the_least_recently_used():
    client, calls = _app(Clock(), max_bytes=8 * 300)  # an entry may take at most 1/8 of the budget
    for name in ["big1", "big2", "big3", "big4", "big5", "big6", "big7", "big8", "big9"]:
        client.get(f"/{name}")
    client.get("/big1")  # evicted by big9: rendered again
    client.get("/big9")  # still cached
    assert calls.count("big1") == 2 and calls.count("big9") == 1


def test_site_pages_carry_cache_headers_and_revalidate(settings, database, db):
    make_paper(db, featured_on=dt.date(2025, 1, 6))
    client = TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 30}), database))
    page = client.get("/papers/date/2025-01-06")
    assert page.headers["cache-control"] == "public, max-age=0, s-maxage=30"
    assert client.get("/papers/date/2025-01-06", headers={"if-none-match": page.headers["etag"]}).status_code == 304
    api = client.get("/api/daily_papers")
    assert "s-maxage=30" in api.headers["cache-control"] and api.headers["access-control-allow-origin"] == "*"
    uncached = TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))
    assert uncached.get("/papers/date/2025-01-06").headers["cache-control"] == "no-cache"
