"""OAI-PMH ListRecords (arXivRaw): the parser on recorded responses, and the client's retries
against a real local server (503 + Retry-After, a timeout, a cut-off body)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from dailypapers.sources.arxiv_oai import OaiError, oai_set, parse_list_records
from dailypapers.sources.arxiv_oai_client import OaiClient, OaiUnavailable
from dailypapers.sources.http_client import retry_after_seconds
from tests.sources.arxiv_oai_server import OAI_DIR, oai_server


def test_recorded_list_records_collapses_versions():
    page = parse_list_records((OAI_DIR / "real_list_records.xml").read_bytes())
    assert page.token == "726959|1001" and page.complete_list_size == 58011
    assert page.response_date == dt.datetime(2015, 1, 6, 20, 49, 59)
    assert [r.arxiv_id for r in page.records] == ["0704.0471", "0704.0716", "0704.0874", "0704.1109",
                                                 "0704.1114", "0704.1586"]
    limit = page.records[1]
    assert (limit.version, limit.published_at, limit.updated_at) == (
        4, dt.datetime(2007, 4, 5, 12, 45, 3), dt.datetime(2008, 11, 14, 9, 7, 25))
    assert limit.categories == ["math-ph", "math.MP"]
    assert page.records[0].authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert page.records[0].title.startswith("Density dependence of the symmetry energy and the nuclear")
    assert '" stiff "' in page.records[0].abstract


def test_recorded_errors():
    empty = parse_list_records((OAI_DIR / "real_error_no_records_match.xml").read_bytes())
    assert empty.records == [] and empty.token is None
    with pytest.raises(OaiError) as bad:
        parse_list_records((OAI_DIR / "real_error_bad_resumption_token.xml").read_bytes())
    assert bad.value.code == "badResumptionToken"


def test_constructed_page_reports_a_malformed_record_by_line_and_counts_deletions():
    page = parse_list_records((OAI_DIR / "constructed_cs_page2.xml").read_bytes(), source="p2")
    assert [r.arxiv_id for r in page.records] == ["2611.10003", "2611.10006"]
    assert page.deleted == 1
    [bad] = page.rejected
    assert (bad.source, bad.reason) == ("p2", "paper 2611.10005 has no title")
    lines = (OAI_DIR / "constructed_cs_page2.xml").read_text().splitlines()
    assert lines[bad.line - 1] == "<record>" and "2611.10005" in lines[bad.line + 1]


@pytest.mark.parametrize(("category", "expected"), [
    ("cs.LG", "cs"), ("hep-th", "physics:hep-th"), ("astro-ph.GA", "physics:astro-ph"),
    ("physics.optics", "physics:physics"), ("math.AG", "math"), ("stat.ML", "stat"), ("q-bio.NC", "q-bio")])
def test_oai_set_of_a_category(category, expected):
    assert oai_set(category) == expected


def test_retry_after_in_seconds_or_as_a_date():
    now = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7", now=now) == 7
    assert retry_after_seconds("Mon, 23 Nov 2026 06:00:30 GMT", now=now) == 30
    assert retry_after_seconds("soon", now=now) is None


def _client(url: str, **kw) -> OaiClient:
    return OaiClient(base_url=url, timeout=kw.pop("timeout", 0.5), min_interval=kw.pop("min_interval", 0),
                     retries=kw.pop("retries", 5), **kw)


def test_client_retries_503_timeout_truncated_and_cut_bodies_then_answers():
    waits: list[float] = []
    with oai_server() as server:
        server.faults["first"] = ["503", "timeout", "truncated", "cut"]
        with _client(server.url, sleep=lambda s: waits.append(s)) as client:
            page = client.list_records(set_spec="cs", date_from=dt.date(2026, 11, 20))
    assert [r.arxiv_id for r in page.records][:1] == ["2611.10001"]
    assert len(server.requests) == 5 and client.requests == 5
    assert server.requests[0] == {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": "cs",
                                  "from": "2026-11-20"}
    assert waits[0] == 1.0  # the 503's Retry-After, then exponential backoff
    assert waits[1:] == [0.2, 0.4, 0.8]


def test_client_gives_up_after_its_retries_and_says_why():
    with oai_server() as server:
        server.faults["first"] = ["503"] * 3
        with _client(server.url, retries=2, sleep=lambda s: None) as client, \
                pytest.raises(OaiUnavailable, match=r"gave up after 3 attempts \(HTTP 503\)"):
            client.list_records(set_spec="cs", date_from=dt.date(2026, 11, 20))
        assert len(server.requests) == 3


def test_client_spaces_requests_by_min_interval():
    import time

    arrivals: list[float] = []
    with oai_server() as server, _client(server.url, min_interval=0.3) as client:
        for token in (None, "6173412|1001", "6173412|2001"):
            client.list_records(set_spec="cs", date_from=dt.date(2026, 11, 20), token=token)
            arrivals.append(time.monotonic())
    assert all(b - a >= 0.3 for a, b in itertools.pairwise(arrivals))


def test_an_expired_token_is_an_oai_error_not_retried():
    with oai_server() as server, _client(server.url) as client:
        with pytest.raises(OaiError) as exc:
            client.list_records(set_spec="cs", token="expired|1")
        assert exc.value.code == "badResumptionToken" and len(server.requests) == 1
