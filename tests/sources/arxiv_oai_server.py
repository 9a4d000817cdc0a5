"""A real HTTP server on 127.0.0.1 that answers like arXiv's OAI-PMH endpoint, from the files of
``tests/fixtures/arxiv/oai/`` (see its README for what is recorded and what is constructed).

``GET /oai?verb=ListRecords&metadataPrefix=arXivRaw&set=cs&from=2026-11-20`` answers page 1 of
the cs harvest; ``?verb=ListRecords&resumptionToken=T`` answers the page that token names. An
unknown token is the real ``badResumptionToken`` answer, an unknown set the real
``noRecordsMatch`` one.

Failures are scripted per page (``"first"`` or a token) and used up in order, one per request:

- ``"503"``        HTTP 503 with ``Retry-After: 1`` (arXiv's OAI flow control);
- ``"timeout"``    accepts the request and never answers (the client's timeout ends it);
- ``"truncated"``  announces the whole body, sends half of it and closes the connection;
- ``"cut"``        HTTP 200 whose whole body is the first half of the page (XML cut off).

``hold`` names a page whose request the server keeps waiting until ``release`` is set; ``held``
is set when that request has arrived — so a test can kill the client while it waits for exactly
that page, with no sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

OAI_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv" / "oai"
PAGES = {
    "first": "constructed_cs_page1.xml",
    "6173412|1001": "constructed_cs_page2.xml",
    "6173412|2001": "constructed_cs_page3.xml",
}
XML = "text/xml; charset=utf-8"


@dataclass
class OaiServer:
    url: str
    requests: list[dict[str, str]] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)
    hold: str | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def pages_served(self) -> list[str]:
        """Which page each request asked for (``first`` or its token), in order."""
        return [r.get("resumptionToken", "first") for r in self.requests]


@contextmanager
def oai_server() -> Iterator[OaiServer]:
    stop = threading.Event()
    state = OaiServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                  send: bytes | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", XML)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body if send is None else send)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client is gone (a killed process whose held request was released)

        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            state.requests.append(query)
            token = query.get("resumptionToken")
            page = token or "first"
            if page == state.hold:
                state.held.set()
                while not (state.release.is_set() or stop.is_set()):
                    state.release.wait(0.05)
                if stop.is_set():
                    return
            if token is None and (query.get("set") != "cs" or query.get("metadataPrefix") != "arXivRaw"):
                return self._send(200, (OAI_DIR / "real_error_no_records_match.xml").read_bytes())
            if page not in PAGES:
                return self._send(200, (OAI_DIR / "real_error_bad_resumption_token.xml").read_bytes())
            body = (OAI_DIR / PAGES[page]).read_bytes()
            fault = state.faults.get(page, []).pop(0) if state.faults.get(page) else None
            if fault == "503":
                return self._send(503, b"<html><body>Retry later</body></html>", {"Retry-After": "1"})
            if fault == "timeout":
                stop.wait(10)
                return
            if fault == "truncated":
                self.close_connection = True
                return self._send(200, body, send=body[: len(body) // 2])
            if fault == "cut":
                return self._send(200, body[: len(body) // 2])
            return self._send(200, body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/oai"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        state.release.set()
        server.shutdown()
        server.server_close()
