"""A real HTTP server on 127.0.0.1 that answers like the arXiv export API, from recorded responses.

``GET /api/query?id_list=…`` answers with the recorded file and status listed for that exact
``id_list`` in ``tests/fixtures/arxiv/responses.json`` (an unrecorded id_list is a 500, so a test
cannot pass by accident; with ``unknown_ids_not_found`` it is the recorded answer for an id arXiv
does not have, an empty feed — for tests that send ids they cannot know in advance). Other
paths reproduce ways the real service fails:

- ``/stall/api/query``   accepts the request and never answers (until the server stops);
- ``/overloaded/api/query``  HTTP 503 with an HTML page;
- ``/html/api/query``    HTTP 200 with an HTML page (a proxy's login page, say);
- ``/rss/api/query``     HTTP 200 with well-formed XML that is not Atom.

Every request's query string is kept in ``requests`` and its arrival time (``time.monotonic``) in
``arrivals``, for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>arXiv</title></head><body>busy</body></html>"
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'


@dataclass
class RecordedArxiv:
    url: str  # the query endpoint, e.g. http://127.0.0.1:PORT/api/query
    base: str  # http://127.0.0.1:PORT
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)

    def endpoint(self, mode: str) -> str:
        return f"{self.base}/{mode}/api/query"


@contextmanager
def recorded_arxiv_api(*, unknown_ids_not_found: bool = False) -> Iterator[RecordedArxiv]:
    manifest = json.loads((RECORDED / "responses.json").read_text())
    stop = threading.Event()
    seen: list[dict[str, list[str]]] = []
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            seen.append(query)
            arrivals.append(time.monotonic())
            mode = parts.path.removesuffix("/api/query").strip("/")
            if mode == "stall":
                stop.wait(30)
                return
            if mode == "overloaded":
                return self._send(503, HTML_PAGE, "text/html; charset=utf-8")
            if mode == "html":
                return self._send(200, HTML_PAGE, "text/html; charset=utf-8")
            if mode == "rss":
                return self._send(200, RSS, "application/rss+xml")
            recorded = manifest.get(",".join(query.get("id_list", [])))
            if recorded is None and unknown_ids_not_found and not mode:
                recorded = manifest["0000.0000"]
            if mode or recorded is None:
                return self._send(500, f"no recorded response for {self.path}".encode(), "text/plain")
            body = (RECORDED / recorded["file"]).read_bytes()
            self._send(recorded["status"], body, "application/atom+xml; charset=UTF-8")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield RecordedArxiv(url=f"{base}/api/query", base=base, requests=seen, arrivals=arrivals)
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join()
