"""Harvest arXiv's OAI-PMH interface (``ListRecords``, ``arXivRaw``), politely and stubbornly.

- At most one request per ``min_interval`` seconds (``DAILYPAPERS_ARXIV_MIN_INTERVAL``), retries
  included.
- Timeouts, connection errors, 429/5xx answers (a ``503`` is arXiv's OAI flow control) and bodies
  that are cut off or unparseable are retried ``retries`` times, waiting the answer's
  ``Retry-After`` or else ``min_interval * 2**n`` (at most ``http_client.MAX_WAIT``): the policy of
  ``http_client.SourceClient``. Then ``OaiUnavailable`` says what the last attempt saw.
- An OAI-PMH error answer (``badResumptionToken``, ``badArgument``…) is not retried: it raises
  ``OaiError`` at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable

import httpx

from dailypapers.settings import Settings
from dailypapers.sources.arxiv import FeedError
from dailypapers.sources.arxiv_oai import OaiPage, parse_list_records
from dailypapers.sources.http_client import Retry, SourceClient, user_agent_for


class OaiUnavailable(Exception):
    """The repository did not give a usable answer within the retries."""


class OaiClient(SourceClient):
    """``list_records`` pages of one OAI set; one HTTP connection pool per client."""

    def __init__(self, *, base_url: str, timeout: float = 60.0, min_interval: float = 3.0,
                 retries: int = 5, user_agent: str | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(timeout=timeout, user_agent=user_agent, min_interval=min_interval,
                         retries=retries, backoff=max(0.1, min_interval), sleep=sleep, clock=clock)
        self.base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> OaiClient:
        return cls(base_url=settings.arxiv_oai_url, timeout=settings.arxiv_timeout,
                   min_interval=settings.arxiv_min_interval, retries=settings.arxiv_retries,
                   user_agent=user_agent_for(settings))

    def list_records(self, *, set_spec: str, date_from: dt.date | None = None,
                     token: str | None = None) -> OaiPage:
        """The first page of a harvest (``set_spec``, ``date_from``) or the page ``token`` names."""
        if token:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": set_spec}
            if date_from is not None:
                params["from"] = date_from.isoformat()

        def give_up(last: Retry, attempts: int) -> OaiUnavailable:
            return OaiUnavailable(f"{self.base_url}: gave up after {attempts} attempts ({last})")

        return self.get_with_retries(self.base_url, params, read=self._read, give_up=give_up,
                                     label=self.base_url)

    def _read(self, response: httpx.Response) -> OaiPage:
        if response.status_code != 200:
            # 4xx (429 and 5xx were retried already): retrying cannot help. An OAI error document
            # raises OaiError with its code.
            with contextlib.suppress(FeedError):
                parse_list_records(response.content, source=str(response.url))
            raise OaiUnavailable(f"{self.base_url} answered HTTP {response.status_code}")
        try:
            return parse_list_records(response.content, source=str(response.url))
        except FeedError as exc:  # truncated or garbled XML delivered as a whole
            raise Retry(f"unusable response: {exc}") from None
