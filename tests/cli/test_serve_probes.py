"""``serve``'s own guards: links point where it listens, and no default secret on the network."""

from __future__ import annotations

import datetime as dt
import re
import socket

import httpx
import pytest
from click.testing import CliRunner

from dailypapers.cli import main

from dailypapers.settings import DEFAULT_SECRET
from tests.factories import make_paper
from tests.server import running_server, settings_env


def test_serve_without_a_base_url_links_to_its_own_host_and_port(settings, database, db):
    paper = make_paper(db, featured_on=dt.date(2025, 3, 10))
    with running_server(settings, base_url=False) as url:
        assert not url.endswith(":8000")
        with httpx.Client(base_url=url, timeout=20) as http:
            feed = http.get("/feeds/latest.atom").text
            markdown = http.get(f"/papers/{paper.key}.md").text
    assert f'href="{url}/papers/{paper.key}"' in feed
    assert f"{url}/papers/{paper.key}" in markdown
    assert ":8000" not in feed + markdown


@pytest.mark.parametrize("host, expected", [("127.0.0.1", "http://127.0.0.1:8123"),
                                            ("0.0.0.0", "http://127.0.0.1:8123"),
                                            ("::1", "http://[::1]:8123"),
                                            ("papers.lan", "http://papers.lan:8123")])
def test_the_derived_base_url(host, expected):
    from dailypapers.cli.serve import derived_base_url  # noqa: PLC0415

    assert derived_base_url(host, 8123) == expected


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "papers.example.org"])
def test_serve_refuses_the_default_secret_on_a_non_loopback_address(settings, monkeypatch, host):
    env = settings_env(settings.model_copy(update={"environment": "development",
                                                   "secret_key": DEFAULT_SECRET}))
    with socket.socket() as taken:  # so that a serve that did not refuse could not listen either
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--host", host, "--port", str(port)], env=env)
    assert result.exit_code != 0
    assert re.search(r"refusing to listen on .* with the default secret key", result.output)
