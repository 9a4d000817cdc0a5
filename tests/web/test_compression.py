"""Compressed responses (web/compression.py) seen by real clients: httpx against a running
``dailypapers serve``, raw bytes decoded with gzip/brotli, ETags and 304s through the page cache,
and headless Chromium (which asks for br)."""

import gzip
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import brotli
import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.services import sessions
from dailypapers.services.imports import import_seeds
from dailypapers.settings import Settings
from dailypapers.store import DailyEntry, Paper
from dailypapers.store.db import Database
from dailypapers.web.auth import COOKIE
from dailypapers.web.compression import MIN_SIZE, negotiate
from tests.conftest import BACKEND, MODEL_CACHE, SEEDS, migrated_sqlite_url
from tests.factories import make_user
from tests.server import running_server



@dataclass
class Site:
    url: str
    member_token: str
    day: str  # the page of the day with the most seed cards (they are featured on their own dates)
    title: str  # the title of a paper on it


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module (the seed pages and a signed-in member); the tests only read."""
    tmp = tmp_path_factory.mktemp("compression")
    with ExitStack() as stack:
        if BACKEND == "postgres":
            url = stack.enter_context(request.getfixturevalue("pg_databases").database())
        else:
            url = migrated_sqlite_url(request.getfixturevalue("sqlite_template"), tmp / "site.db")
        database = Database(url)
        stack.callback(database.dispose)
        with database.session() as db:
            import_seeds(db=db, paths=SEEDS, year=2025)
            member = make_user(db, username="reader")
            token = sessions.start_session(db=db, user_id=member.id, days=1)
            db.commit()
            day = db.execute(select(DailyEntry.day).group_by(DailyEntry.day)
                             .order_by(func.count().desc(), DailyEntry.day)).scalars().first()
            title = db.scalars(select(Paper.title).join(DailyEntry, DailyEntry.paper_id == Paper.id)
                               .where(DailyEntry.day == day, ~Paper.title.contains("$"))
                               .order_by(Paper.upvotes.desc())).first()
            assert day is not None and title is not None
        settings = Settings(database_url=url, environment="test", data_dir=tmp / "var",
                            load_sample=False, search_model_cache_dir=MODEL_CACHE)
        yield Site(stack.enter_context(running_server(settings)), token, f"/papers/date/{day.isoformat()}", title)


def _wire(url: str, encoding: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as it came over the wire (not decoded)."""
    with httpx.Client(timeout=30) as client, \
            client.stream("GET", url, headers={"accept-encoding": encoding, **headers}) as response:
        raw = b"".join(response.iter_raw())
    return response, raw


@pytest.mark.parametrize("coding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_pages_json_and_feeds_come_compressed_and_decode_to_the_same_bytes(site, coding, decode):
    base = site.url
    for path in (site.day, "/api/daily_papers", "/feeds/latest.rss", "/papers/trending"):
        plain, plain_raw = _wire(base + path, "identity")
        packed, packed_raw = _wire(base + path, coding)
        assert plain.status_code == packed.status_code == 200, path
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == coding
        assert int(packed.headers["content-length"]) == len(packed_raw) < len(plain_raw) / 2, path
        assert decode(packed_raw) == plain_raw, path
        for response in (plain, packed):
            assert "accept-encoding" in response.headers["vary"].lower(), path


def test_brotli_is_preferred_and_refused_codings_are_not_used(site):
    assert _wire(site.url + site.day, "gzip, deflate, br, zstd")[0].headers["content-encoding"] == "br"
    assert _wire(site.url + site.day, "br;q=0, gzip")[0].headers["content-encoding"] == "gzip"
    refused = _wire(site.url + site.day, "gzip;q=0, br;q=0")[0]
    assert "content-encoding" not in refused.headers and refused.status_code == 200


def test_small_responses_stay_as_they_are(site):
    response, raw = _wire(site.url + "/healthz", "gzip")
    assert len(raw) < MIN_SIZE and "content-encoding" not in response.headers
    assert raw == b'{"status":"ok"}'


def test_a_compressed_copy_revalidates_with_304(site):
    """The page cache's ETag is strong for the plain body and weak for compressed copies; both
    validators match the page, whichever encoding the revalidation asks for."""
    plain = _wire(site.url + site.day, "identity")[0]
    packed = _wire(site.url + site.day, "gzip")[0]
    strong = plain.headers["etag"]
    assert strong.startswith('"') and packed.headers["etag"] == "W/" + strong
    for encoding, validator in [("gzip", packed.headers["etag"]), ("gzip", strong),
                                ("identity", packed.headers["etag"]), ("br", strong)]:
        again, raw = _wire(site.url + site.day, encoding, **{"if-none-match": validator})
        assert again.status_code == 304 and raw == b"", (encoding, validator)
        assert "content-encoding" not in again.headers
        assert "accept-encoding" in again.headers["vary"].lower()
    assert _wire(site.url + site.day, "gzip", **{"if-none-match": 'W/"other"'})[0].status_code == 200


def test_signed_in_pages_are_compressed_and_stay_private(site):
    response, raw = _wire(site.url + site.day, "gzip", cookie=f"{COOKIE}={site.member_token}")
    assert response.headers["content-encoding"] == "gzip"
    page = gzip.decompress(raw).decode()
    assert 'class="vote-form"' in page  # vote forms are only for signed-in members
    assert response.headers["cache-control"] == "private, no-cache"
    vary = [v.strip().lower() for v in response.headers["vary"].split(",")]
    assert "cookie" in vary and "accept-encoding" in vary


def test_head_reports_the_compressed_length(site):
    with httpx.Client(timeout=30) as client:
        head = client.head(site.url + site.day, headers={"accept-encoding": "gzip"})
    _, raw = _wire(site.url + site.day, "gzip")
    assert head.status_code == 200 and head.headers["content-encoding"] == "gzip"
    assert int(head.headers["content-length"]) == len(raw)


@pytest.mark.browser
def test_chromium_reads_brotli_pages(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    response = page.goto(site.url + site.day)
    assert response is not None and response.status == 200
    assert response.headers["content-encoding"] == "br"
    assert page.get_by_role("link", name=site.title, exact=True).first.is_visible()
    context.close()


@pytest.mark.parametrize("header, expected", [
    (None, None), (b"", None), (b"identity", None), (b"gzip", "gzip"), (b"br", "br"),
    (b"gzip, deflate, br", "br"), (b"gzip;q=1.0, br;q=0", "gzip"), (b"*", "br"),
    (b"*;q=0, gzip", "gzip"), (b"BR;Q=0.5", "br"), (b"gzip;q=zero", None), (b"deflate", None),
])
def test_negotiate(header, expected):
    assert negotiate(header) == expected
