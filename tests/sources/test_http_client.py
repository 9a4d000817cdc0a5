"""The retry policy the upstream clients share (sources/http_client.py), against a real local
HTTP server that answers from a script; the waits are recorded, never slept."""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from dailypapers.sources.http_client import MAX_WAIT, Retry, SourceClient


@contextmanager
def scripted(answers: list[tuple[int, dict[str, str], bytes]]) -> Iterator[tuple[str, list[str]]]:
    """A server answering each GET with the next (status, headers, body); the last one repeats."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append(self.path)
            status, headers, body = answers[min(len(seen), len(answers)) - 1]
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/x", seen
    finally:
        server.shutdown()
        server.server_close()


class Failed(Exception):
    pass


def _fetch(url: str, *, waits: list[float], retries: int = 3, backoff: float = 1.0,
           min_interval: float = 0.0) -> bytes:
    def read(response: httpx.Response) -> bytes:
        if response.status_code != 200:
            raise Failed(f"HTTP {response.status_code}")
        if not response.content.startswith(b"ok"):
            raise Retry("body not usable", bad=True)
        return response.content

    with SourceClient(timeout=5, retries=retries, backoff=backoff, min_interval=min_interval,
                      sleep=waits.append) as client:
        return client.get_with_retries(url, {}, read=read, label=url,
                                       give_up=lambda last, n: Failed(f"gave up after {n}: {last}"))


def test_retry_after_as_a_date_on_429_then_backoff_for_a_bad_body():
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=40), usegmt=True)
    waits: list[float] = []
    with scripted([(429, {"Retry-After": later}, b""), (200, {}, b"garbage"), (200, {}, b"ok!")]) as (url, seen):
        assert _fetch(url, waits=waits) == b"ok!"
    assert len(seen) == 3
    assert 30 < waits[0] <= 40  # the date the server asked for (the clock moved a little)
    assert waits[1] == 2.0  # no Retry-After: backoff * 2**1


def test_waits_are_capped_and_the_paced_interval_counts_towards_them():
    waits: list[float] = []
    with scripted([(503, {"Retry-After": "99999"}, b""), (500, {}, b"")]) as (url, seen), \
            pytest.raises(Failed, match=r"gave up after 3: HTTP 500"):
        _fetch(url, waits=waits, retries=2, backoff=200.0, min_interval=0.0)
    assert len(seen) == 3
    assert waits == [MAX_WAIT, MAX_WAIT]  # Retry-After capped; backoff 200 * 2 capped


def test_an_answer_that_retrying_cannot_help_stops_at_once():
    waits: list[float] = []
    with scripted([(404, {}, b"")]) as (url, seen), pytest.raises(Failed, match="HTTP 404"):
        _fetch(url, waits=waits)
    assert len(seen) == 1 and waits == []


def test_a_refused_connection_is_retried_then_reported():
    with scripted([(200, {}, b"ok")]) as (url, _):
        pass  # the server is gone: its port refuses
    waits: list[float] = []
    with pytest.raises(Failed, match=r"gave up after 2: cannot connect \(ConnectError"):
        _fetch(url, waits=waits, retries=1)
    assert waits == [1.0]
