"""One running server per test module for the community acceptance tests (starting a server per
parametrized case would dominate the run time). Its database is the test backend's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

from dailypapers.settings import Settings
from dailypapers.store.db import Database
from tests.conftest import BACKEND, migrated_sqlite_url
from tests.digests.smtp_sink import SmtpSink
from tests.server import running_server
from tests.sources.arxiv_api import recorded_arxiv_api


@dataclass
class Site:
    url: str
    settings: Settings
    database: Database


def start_site(stack: ExitStack, request: pytest.FixtureRequest, tmp_path, *, workers: int = 1,
               **overrides: object) -> Site:
    if BACKEND == "postgres":
        url = stack.enter_context(request.getfixturevalue("pg_databases").database())
    else:
        url = migrated_sqlite_url(request.getfixturevalue("sqlite_template"), tmp_path / "community.db")
    arxiv = stack.enter_context(recorded_arxiv_api())
    settings = Settings(database_url=url, environment="test", data_dir=tmp_path / "var",
                        load_sample=False, arxiv_api_url=arxiv.url, arxiv_min_interval=0,
                        **overrides)  # type: ignore[arg-type]
    database = Database(url)  # already migrated (a copy or clone of the template)
    stack.callback(database.dispose)
    base = stack.enter_context(running_server(settings, workers=workers))
    return Site(url=base, settings=settings, database=database)


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A server with generous rate limits (the throttling tests start their own)."""
    with ExitStack() as stack:
        yield start_site(stack, request, tmp_path_factory.mktemp("site"), rate_limit_scale=100)


@contextmanager
def site_with_held_mail(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Site, SmtpSink,
                                                                                 threading.Event]]:
    """A server mailing to a real SMTP server that holds every mail at RCPT TO until the event
    is set: a page that waited for its mail would not answer."""
    release = threading.Event()
    sink = SmtpSink(on_rcpt=lambda n, address: release.wait(60)).start()
    try:
        with ExitStack() as stack:
            yield (start_site(stack, request, tmp_path, rate_limit_scale=100, smtp_host="127.0.0.1",
                              smtp_port=sink.port, smtp_security="none"), sink, release)
    finally:
        release.set()
        sink.stop()
