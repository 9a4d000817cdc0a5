"""Fetch paper metadata by arXiv id from the arXiv export API (``/api/query?id_list=…``).

Used where a member submits a paper by its arXiv id. Every failure is one of four exceptions, so a
caller can tell the member what went wrong without a traceback:

- ``ArxivInvalidId``    the id is not an arXiv identifier (checked locally, or arXiv said so);
- ``ArxivNotFound``     arXiv has no paper with that id;
- ``ArxivUnavailable``  arXiv could not be reached, timed out, or answered with an HTTP error;
- ``ArxivBadResponse``  arXiv answered, but not with a usable Atom feed.

The client is an object built from ``Settings`` (no module state); it keeps one HTTP connection
pool and spaces its requests ``min_interval`` seconds apart, as arXiv's terms of use ask.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from dailypapers.settings import Settings
from dailypapers.sources.arxiv import ArxivFeed, FeedError, parse_arxiv_feed
from dailypapers.sources.http_client import SourceClient, user_agent_for
from dailypapers.sources.records import PaperRecord, RecordError, parse_arxiv_id

# arXiv answers an id_list of up to a few hundred ids in one response; more would be split.
MAX_IDS_PER_REQUEST = 100


class ArxivError(Exception):
    """Base of every error the client raises."""


class ArxivInvalidId(ArxivError):
    """The text is not an arXiv identifier (``2401.01234``, ``2401.01234v3``, ``hep-th/9901001``)."""


class ArxivNotFound(ArxivError):
    """arXiv has no paper for these ids."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(f"arXiv has no paper with id {', '.join(ids)}")
        self.ids = list(ids)


class ArxivUnavailable(ArxivError):
    """arXiv could not be reached, did not answer in time, or answered with an HTTP error."""


class ArxivBadResponse(ArxivError):
    """arXiv answered with something that is not a usable Atom feed."""


@dataclass
class ArxivLookup:
    """The papers found for a list of ids, in the order asked, and the ids arXiv does not know."""

    records: list[PaperRecord] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


_HF_PAPER_URL = re.compile(
    r"^\s*(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/papers/(?P<id>[^?#\s]+?)/?(?:[?#]\S*)?\s*$",
    re.IGNORECASE)


def normalize_id(text: str) -> tuple[str, int | None]:
    """An id as a member may paste it (``arXiv:2401.01234v3``, an abs/pdf URL, a
    huggingface.co/papers/… or hf.co/papers/… link) → (id, version)."""
    hf = _HF_PAPER_URL.match(text)
    if hf:
        text = hf.group("id")
    try:
        return parse_arxiv_id(text)
    except RecordError as exc:
        raise ArxivInvalidId(str(exc)) from exc


class ArxivClient(SourceClient):
    """A small client for the export API's ``id_list`` query. It does not retry: a member is
    waiting for the answer, and is told at once what went wrong."""

    def __init__(self, *, base_url: str, timeout: float = 20.0, min_interval: float = 3.0,
                 user_agent: str | None = None) -> None:
        super().__init__(timeout=timeout, user_agent=user_agent, min_interval=min_interval)
        self.base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> ArxivClient:
        return cls(base_url=settings.arxiv_api_url, timeout=settings.arxiv_timeout,
                   min_interval=settings.arxiv_min_interval, user_agent=user_agent_for(settings))

    def fetch_one(self, arxiv_id: str) -> PaperRecord:
        """The paper for one id (latest version unless the id names one); raises ``ArxivNotFound``."""
        lookup = self.fetch([arxiv_id])
        if lookup.missing:
            raise ArxivNotFound(lookup.missing)
        return lookup.records[0]

    def fetch(self, ids: Sequence[str]) -> ArxivLookup:
        """Papers for many ids; ids arXiv does not know are listed in ``missing``, not raised."""
        wanted = [normalize_id(text) for text in ids]
        asked = [f"{i}v{v}" if v else i for i, v in wanted]
        found: dict[str, PaperRecord] = {}
        for start in range(0, len(asked), MAX_IDS_PER_REQUEST):
            chunk = asked[start:start + MAX_IDS_PER_REQUEST]
            for record in self._query(chunk).records:
                if record.arxiv_id is not None:
                    found[record.arxiv_id] = record
        lookup = ArxivLookup()
        for (arxiv_id, _), text in zip(wanted, asked, strict=True):
            if arxiv_id in found:
                lookup.records.append(found[arxiv_id])
            else:
                lookup.missing.append(text)
        return lookup

    def _query(self, id_list: list[str]) -> ArxivFeed:
        params = {"id_list": ",".join(id_list), "max_results": str(len(id_list))}
        try:
            response = self.paced_get(self.base_url, params)
        except httpx.TimeoutException as exc:
            raise ArxivUnavailable(f"arXiv did not answer in time ({self.base_url})") from exc
        except httpx.HTTPError as exc:
            raise ArxivUnavailable(f"cannot reach arXiv at {self.base_url}: {exc}") from exc
        return self.read_response(response)

    def read_response(self, response: httpx.Response) -> ArxivFeed:
        """An API answer → its feed, or the ``ArxivError`` that says what is wrong with it."""
        is_xml = "xml" in response.headers.get("content-type", "") or response.content.lstrip(
            b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml")
        if response.status_code >= 500 or response.status_code == 429 or not is_xml:
            if response.is_success:
                raise ArxivBadResponse(f"arXiv answered with {response.headers.get('content-type')!r},"
                                       " not an Atom feed")
            raise ArxivUnavailable(f"arXiv answered HTTP {response.status_code}")
        try:
            feed = parse_arxiv_feed(response.content, source=str(response.url))
        except FeedError as exc:
            raise ArxivBadResponse(f"arXiv sent an unusable response: {exc}") from exc
        if feed.errors:
            # The API reports a malformed id (HTTP 400) as an error entry of the feed.
            raise ArxivInvalidId("; ".join(e.reason for e in feed.errors))
        if not response.is_success:
            raise ArxivUnavailable(f"arXiv answered HTTP {response.status_code}")
        if feed.rejected:
            raise ArxivBadResponse("; ".join(str(r) for r in feed.rejected))
        return feed
