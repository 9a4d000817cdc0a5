"""Compressed responses (web/compression.py) seen by real clients: httpx against a running
``dailypapers serve``, raw bytes decoded with gzip/brotli, ETags and 304s through the page cache,
and headless Chromium (which asks for br)."""

import datetime as dt
import gzip

import brotli
import httpx
import pytest

from dailypapers.services import sessions
from dailypapers.services.imports import import_seeds
from dailypapers.web.auth import COOKIE
from dailypapers.web.compression import MIN_SIZE, negotiate
from tests.conftest import SEEDS
from tests.factories import make_paper, make_user

DAY = "/papers/date/2025-11-20"


@pytest.fixture
def site(live_server, db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    return live_server


def _wire(url: str, encoding: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as it came over the wire (not decoded)."""
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", url, headers={"accept-encoding": encoding, **headers}) as response:
            raw = b"".join(response.iter_raw())
    return response, raw


@pytest.mark.parametrize("coding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_pages_json_and_feeds_come_compressed_and_decode_to_the_same_bytes(site, coding, decode):
    for path in (DAY, "/api/daily_papers", "/feeds/latest.rss", "/papers/trending"):
        plain, plain_raw = _wire(site + path, "identity")
        packed, packed_raw = _wire(site + path, coding)
        assert plain.status_code == packed.status_code == 200, path
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == coding
        assert int(packed.headers["content-length"]) == len(packed_raw) < len(plain_raw) / 3, path
        assert decode(packed_raw) == plain_raw, path
        for response in (plain, packed):
            assert "accept-encoding" in response.headers["vary"].lower(), path


def test_brotli_is_preferred_and_refused_codings_are_not_used(site):
    assert _wire(site + DAY, "gzip, deflate, br, zstd")[0].headers["content-encoding"] == "br"
    assert _wire(site + DAY, "br;q=0, gzip")[0].headers["content-encoding"] == "gzip"
    refused = _wire(site + DAY, "gzip;q=0, br;q=0")[0]
    assert "content-encoding" not in refused.headers and refused.status_code == 200


def test_small_responses_stay_as_they_are(site):
    response, raw = _wire(site + "/healthz", "gzip")
    assert len(raw) < MIN_SIZE and "content-encoding" not in response.headers
    assert raw == b'{"status":"ok"}'


def test_a_compressed_copy_revalidates_with_304(site):
    """The page cache's ETag is strong for the plain body and weak for compressed copies; both
    validators match the page, whichever encoding the revalidation asks for."""
    plain = _wire(site + DAY, "identity")[0]
    packed = _wire(site + DAY, "gzip")[0]
    strong = plain.headers["etag"]
    assert strong.startswith('"') and packed.headers["etag"] == "W/" + strong
    for encoding, validator in [("gzip", packed.headers["etag"]), ("gzip", strong),
                                ("identity", packed.headers["etag"]), ("br", strong)]:
        again, raw = _wire(site + DAY, encoding, **{"if-none-match": validator})
        assert again.status_code == 304 and raw == b"", (encoding, validator)
        assert "content-encoding" not in again.headers
        assert "accept-encoding" in again.headers["vary"].lower()
    assert _wire(site + DAY, "gzip", **{"if-none-match": 'W/"other"'})[0].status_code == 200


def test_signed_in_pages_are_compressed_and_stay_private(site, db):
    member = make_user(db, username="reader")
    token = sessions.start_session(db=db, user_id=member.id, days=1)
    response, raw = _wire(site + DAY, "gzip", cookie=f"{COOKIE}={token}")
    assert response.headers["content-encoding"] == "gzip"
    page = gzip.decompress(raw).decode()
    assert "reader" in page and 'class="vote-form"' in page
    assert response.headers["cache-control"] == "private, no-cache"
    vary = [v.strip().lower() for v in response.headers["vary"].split(",")]
    assert "cookie" in vary and "accept-encoding" in vary


def test_head_reports_the_compressed_length(site):
    with httpx.Client(timeout=30) as client:
        head = client.head(site + DAY, headers={"accept-encoding": "gzip"})
    _, raw = _wire(site + DAY, "gzip")
    assert head.status_code == 200 and head.headers["content-encoding"] == "gzip"
    assert int(head.headers["content-length"]) == len(raw)


@pytest.mark.browser
def test_chromium_reads_brotli_pages(browser, live_server, db):
    make_paper(db, title="A paper read through brotli", featured_on=dt.date(2025, 1, 9),
               abstract="Long enough to be worth compressing. " * 40)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    response = page.goto(f"{live_server}/papers/date/2025-01-09")
    assert response is not None and response.status == 200
    assert response.headers["content-encoding"] == "br"
    assert page.get_by_role("link", name="A paper read through brotli").is_visible()
    context.close()


@pytest.mark.parametrize("header, expected", [
    (None, None), (b"", None), (b"identity", None), (b"gzip", "gzip"), (b"br", "br"),
    (b"gzip, deflate, br", "br"), (b"gzip;q=1.0, br;q=0", "gzip"), (b"*", "br"),
    (b"*;q=0, gzip", "gzip"), (b"BR;Q=0.5", "br"), (b"gzip;q=zero", None), (b"deflate", None),
])
def test_negotiate(header, expected):
    assert negotiate(header) == expected
