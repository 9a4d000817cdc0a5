"""The arXiv client against recorded arXiv responses served by a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator

import httpx
import pytest

from dailypapers.settings import Settings
from dailypapers.sources.arxiv_client import (
    ArxivBadResponse,
    ArxivClient,
    ArxivInvalidId,
    ArxivNotFound,
    ArxivUnavailable,
)
from tests.sources.arxiv_api import RecordedArxiv, recorded_arxiv_api


@pytest.fixture(scope="module")
def arxiv() -> Iterator[RecordedArxiv]:
    with recorded_arxiv_api() as api:
        yield api


@pytest.fixture
def client(arxiv: RecordedArxiv) -> Iterator[ArxivClient]:
    with ArxivClient(base_url=arxiv.url, timeout=5, min_interval=0) as c:
        yield c


def test_fetch_one_returns_the_paper_with_its_versionless_id(client: ArxivClient, arxiv: RecordedArxiv):
    paper = client.fetch_one("1605.08386")
    assert (paper.arxiv_id, paper.version) == ("1605.08386", 1)
    assert paper.title == "Heat-bath random walks with Markov bases"
    assert paper.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert paper.categories == ["math.CO", "math.ST"]
    assert paper.published_at == dt.datetime(2016, 5, 26, 17, 59, 46)
    assert arxiv.requests[-1] == {"id_list": ["1605.08386"], "max_results": ["1"]}


def test_pasted_forms_of_an_id_are_normalized_before_asking(client: ArxivClient, arxiv: RecordedArxiv):
    paper = client.fetch_one("https://arxiv.org/abs/1111.2011v2")
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    assert paper.published_at == dt.datetime(2011, 11, 8, 18, 48, 36)
    assert arxiv.requests[-1]["id_list"] == ["1111.2011v2"]
    assert client.fetch_one("arXiv:astro-ph/0601001").arxiv_id == "astro-ph/0601001"


def test_unknown_id_is_not_found(client: ArxivClient):
    with pytest.raises(ArxivNotFound) as err:
        client.fetch_one("0000.0000")
    assert err.value.ids == ["0000.0000"]


def test_fetch_many_lists_ids_arxiv_does_not_know(client: ArxivClient):
    lookup = client.fetch(["0808.05394", "1707.08567"])
    assert lookup.missing == ["0808.05394"]
    [paper] = lookup.records
    assert paper.arxiv_id == "1707.08567" and len(paper.authors) == 34
    assert "Dirk Wübben" in paper.authors


def test_malformed_id_is_refused_without_a_request(client: ArxivClient, arxiv: RecordedArxiv):
    before = len(arxiv.requests)
    with pytest.raises(ArxivInvalidId):
        client.fetch_one("not an id")
    assert len(arxiv.requests) == before


def test_arxiv_error_entry_with_http_400_is_an_invalid_id(arxiv: RecordedArxiv):
    # fetch() refuses "abc" before asking, so hand the recorded answer to the client directly.
    response = httpx.get(arxiv.url, params={"id_list": "abc"})
    assert response.status_code == 400
    with (
        ArxivClient(base_url=arxiv.url, min_interval=0) as c,
        pytest.raises(ArxivInvalidId, match="incorrect id format for abc"),
    ):
        c.read_response(response)


def test_malformed_entries_in_a_response_are_a_bad_response(client: ArxivClient):
    with pytest.raises(ArxivBadResponse, match="not an arXiv id"):
        client.fetch(["1605.08386", "1605.08387", "1605.08388"])


def test_withdrawn_papers_carry_withdrawn_at(client: ArxivClient):
    lookup = client.fetch(["2601.07131", "1002.3973"])  # constructed response, see README
    assert [p.withdrawn_at for p in lookup.records] == [
        dt.datetime(2026, 1, 20, 9, 0), dt.datetime(2010, 3, 1, 12, 0)]


@pytest.mark.parametrize(("mode", "error", "message"), [
    ("overloaded", ArxivUnavailable, "HTTP 503"),
    ("html", ArxivBadResponse, "not an Atom feed"),
    ("rss", ArxivBadResponse, "not an Atom feed"),
])
def test_failing_service_raises_a_clear_error(arxiv: RecordedArxiv, mode, error, message):
    with ArxivClient(base_url=arxiv.endpoint(mode), min_interval=0) as c, pytest.raises(error, match=message):
        c.fetch_one("1605.08386")


def test_a_server_that_never_answers_times_out(arxiv: RecordedArxiv):
    with (
        ArxivClient(base_url=arxiv.endpoint("stall"), timeout=0.3, min_interval=0) as c,
        pytest.raises(ArxivUnavailable, match="did not answer in time"),
    ):
        c.fetch_one("1605.08386")


def test_unreachable_host_is_unavailable():
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        ArxivClient(base_url=f"http://127.0.0.1:{port}/api/query", min_interval=0) as c,
        pytest.raises(ArxivUnavailable, match="cannot reach arXiv"),
    ):
        c.fetch_one("1605.08386")


def test_requests_are_spaced_by_min_interval(arxiv: RecordedArxiv):
    with ArxivClient(base_url=arxiv.url, min_interval=0.25) as c:
        c.fetch_one("1605.08386")
        c.fetch_one("1605.08386")
    first, second = arxiv.arrivals[-2:]
    assert second - first >= 0.25


def test_client_is_built_from_settings(arxiv: RecordedArxiv):
    settings = Settings(environment="test", arxiv_api_url=arxiv.url, arxiv_timeout=2,
                        arxiv_min_interval=0)
    with ArxivClient.from_settings(settings) as c:
        assert c.fetch_one("1605.08386").arxiv_id == "1605.08386"


@pytest.mark.parametrize(("pasted", "expected"), [
    ("https://huggingface.co/papers/2401.01234", ("2401.01234", None)),
    ("hf.co/papers/2401.01234v2#community", ("2401.01234", 2)),
    ("https://www.huggingface.co/papers/2401.01234/?utm=x", ("2401.01234", None)),
    ("https://huggingface.co/papers/hep-th/9901001", ("hep-th/9901001", None)),
])
def test_hf_paper_links_are_ids_too(pasted, expected):
    from dailypapers.sources.arxiv_client import normalize_id

    assert normalize_id(pasted) == expected
