"""Fixtures of the digest tests: a real aiosmtpd server and settings that send to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dailypapers.settings import Settings
from tests.digests.smtp_sink import SmtpSink


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> Settings:
    """The suite's settings, sending mail to ``smtp_sink`` (plain SMTP on loopback)."""
    return Settings(database_url=db_url, environment="test", data_dir=tmp_path / "var",
                    load_sample=False, smtp_host="127.0.0.1", smtp_port=smtp_sink.port,
                    smtp_security="none", smtp_timeout=10, mail_from="Daily Papers <digest@example.org>",
                    base_url="https://papers.example.org", site_name="Daily Papers",
                    search_semantic=False)
