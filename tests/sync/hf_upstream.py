"""A real HTTP server on 127.0.0.1 that answers ``/api/daily_papers?date=…&p=…&limit=…`` like
Hugging Face, from saved responses (``../shared/data/hf_api/``: one file per day).

Pages are slices of the day's saved list, so paging is exercised. ``faults[day]`` is a queue of
misbehaviours applied to that day's next requests, one per request:

- ``"503"`` / ``"429"``  the status with ``Retry-After: 0``;
- ``"truncate"``         the first half of the JSON body, with a matching Content-Length;
- ``"html"``             HTTP 200 with an HTML page;
- ``"object"``           HTTP 200 with a JSON object instead of a list;
- ``"hold"``             the request is held: ``held`` is set, and nothing is sent until
                         ``release`` is set (a test kills the client meanwhile — no sleeps).

Every request's (date, p, limit) is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class HfUpstream:
    base: str
    days: dict[str, list[Any]]
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, int, int]] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def requests_for(self, day: str) -> list[tuple[str, int, int]]:
        return [r for r in self.requests if r[0] == day]


def load_days(paths: list[Path]) -> dict[str, list[Any]]:
    """``{YYYY-MM-DD: items}`` from files named ``daily_papers_YYYY-MM-DD.json``."""
    return {p.stem.removeprefix("daily_papers_"): json.loads(p.read_bytes()) for p in paths}


@contextmanager
def hf_upstream(days: dict[str, list[Any]]) -> Iterator[HfUpstream]:
    state = HfUpstream(base="", days=days)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json",
                  length: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            if status in (429, 503):
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/api/daily_papers":
                return self._send(404, b'{"error": "not found"}')
            query = parse_qs(parts.query)
            day = query.get("date", [""])[0]
            page, limit = int(query.get("p", ["0"])[0]), int(query.get("limit", ["50"])[0])
            with lock:
                state.requests.append((day, page, limit))
                queue = state.faults.get(day) or []
                fault = queue.pop(0) if queue else None
            if fault == "hold":
                state.held.set()
                state.release.wait(60)
                self.close_connection = True
                return
            if fault in ("503", "429"):
                return self._send(int(fault), b"busy", "text/plain")
            if fault == "html":
                return self._send(200, b"<html><body>login</body></html>", "text/html")
            if fault == "object":
                return self._send(200, b'{"error": "Invalid date"}')
            items = state.days.get(day, [])[page * limit:(page + 1) * limit]
            body = json.dumps(items).encode()
            if fault == "truncate":
                half = body[: len(body) // 2]
                self.close_connection = True
                return self._send(200, half, length=len(half))
            return self._send(200, body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
