"""The in-process page cache: what it keeps, for how long, and what it never shares."""

import asyncio
import concurrent.futures
import datetime as dt

import httpx
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
    clock.now += 10.2  # past twice s-maxage=10: too old to serve even while refreshing
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


def _gated_app(clock: Clock):
    gate = asyncio.Event()
    calls: list[int] = []

    async def page(request: Request) -> PlainTextResponse:
        calls.append(1)
        await gate.wait()
        return PlainTextResponse(f"render {len(calls)}", headers={"cache-control": public_cache_control(10)})

    cache = PageCache(Starlette(routes=[Route("/", page)]), max_bytes=1_000_000, max_seconds=60, clock=clock)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=cache), base_url="http://test")
    return cache, client, gate, calls


async def _settle() -> None:
    for _ in range(200):  # in-memory transport: every task runs until it blocks
        await asyncio.sleep(0)


def test_concurrent_misses_render_once():
    async def scenario():
        clock = Clock()
        cache, client, gate, calls = _gated_app(clock)
        tasks = [asyncio.create_task(client.get("/")) for _ in range(10)]
        await _settle()
        assert len(calls) == 1 and len(cache.filling) == 1
        gate.set()
        bodies = {r.text for r in await asyncio.gather(*tasks)}
        assert bodies == {"render 1"} and len(calls) == 1
        # Expired: every request gets the stale copy at once, including the one that started
        # the refresh, which renders in the background (no reader waits for a render).
        clock.now += 11
        gate.clear()
        stale = await asyncio.gather(*(client.get("/") for _ in range(5)))
        assert {r.text for r in stale} == {"render 1"} and len(calls) == 2
        gate.set()
        await _settle()
        assert not cache.filling
        assert (await client.get("/")).text == "render 2" and len(calls) == 2
        # Expired for longer than its lifetime: too old to serve, the request waits for a render.
        clock.now += 25
        assert (await client.get("/")).text == "render 3" and len(calls) == 3
        await client.aclose()

    # Its own thread and loop: a session-wide Playwright fixture may own this thread's loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def test_head_is_answered_like_get_without_a_body(settings, database, db):
    make_paper(db, featured_on=dt.date(2025, 1, 6))
    client = TestClient(create_app(settings, database))
    for path in ("/papers/date/2025-01-06", "/api/daily_papers", "/feeds/latest.rss"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["etag"] == got.headers["etag"]
    assert client.head("/papers/2501.99999").status_code == 404


def test_concurrent_misses_scenario_survives_a_running_loop():
    """The test above must pass when its caller's thread already runs an event loop, as the
    session-wide Playwright fixture leaves one running (it failed there with ``asyncio.run()
    cannot be called from a running event loop`` when it called asyncio.run directly)."""
    errors: list[BaseException] = []

    async def inside_a_loop() -> None:
        test_concurrent_misses_render_once()

    def run() -> None:
        try:
            asyncio.run(inside_a_loop())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread below
            errors.append(exc)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()
    assert errors == []


def _uncacheable_app():
    """An inner app whose answers may not be shared (``private, no-store``) but carry validators,
    and that answers its own conditional GETs, as ``rendering.body`` does (a private feed)."""
    seen: list[str | None] = []

    def feed(request: Request) -> PlainTextResponse:
        seen.append(request.headers.get("if-none-match"))
        text = "entry " * 200 if request.path_params["name"] == "long" else "one entry"
        etag = '"v1"'
        headers = {"cache-control": "private, no-store", "etag": etag,
                   "last-modified": "Mon, 23 Nov 2026 06:00:00 GMT"}
        if request.headers.get("if-none-match") == etag:
            return PlainTextResponse("", status_code=304, headers=headers)
        return PlainTextResponse(text, headers=headers)

    inner = Starlette(routes=[Route("/feed/{name}", feed)])
    return TestClient(PageCache(inner, max_bytes=1_000_000, max_seconds=60, clock=Clock())), seen


def test_an_uncacheable_answer_still_honours_the_conditional_headers():
    client, seen = _uncacheable_app()
    first = client.get("/feed/short")
    assert first.status_code == 200 and first.headers["etag"] == '"v1"'
    again = client.get("/feed/short", headers={"If-None-Match": '"v1"'})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == '"v1"' and "content-type" not in again.headers
    # The app rendered the full answer (the cache had to see whether it could keep it), and the
    # cache answered the condition the app never saw.
    assert seen == [None, None]
    assert client.get("/feed/short", headers={"If-None-Match": '"v0"'}).status_code == 200
    since = client.get("/feed/short", headers={"If-Modified-Since": "Tue, 24 Nov 2026 06:00:00 GMT"})
    assert since.status_code == 304
    assert client.get("/feed/short", headers={
        "If-Modified-Since": "Sun, 22 Nov 2026 06:00:00 GMT"}).status_code == 200


def test_the_304_of_an_uncacheable_answer_carries_the_validator_of_its_compressed_copy():
    client, _ = _uncacheable_app()
    again = client.get("/feed/long", headers={"If-None-Match": 'W/"v1"', "Accept-Encoding": "gzip"})
    assert again.status_code == 304
    assert again.headers["etag"] == 'W/"v1"'  # what Compress gives the 200 a browser holds
