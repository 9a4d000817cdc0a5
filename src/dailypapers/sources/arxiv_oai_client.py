"""Harvest arXiv's OAI-PMH interface (``ListRecords``, ``arXivRaw``), politely and stubbornly.

- At most one request per ``min_interval`` seconds (``DAILYPAPERS_ARXIV_MIN_INTERVAL``), retries
  included.
- A ``503`` (arXiv's OAI flow control) waits its ``Retry-After``; timeouts, connection errors,
  other 5xx/429 answers and bodies that are cut off or unparseable wait ``min_interval * 2**n``
  (at most ``MAX_WAIT``) and try again, ``retries`` times. Then
  ``OaiUnavailable`` says what the last attempt saw.
- An OAI-PMH error answer (``badResumptionToken``, ``badArgument``…) is not retried: it raises
  ``OaiError`` at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import time
from collections.abc import Callable
from types import TracebackType

import httpx

from dailypapers import __version__
from dailypapers.settings import Settings
from dailypapers.sources.arxiv import FeedError
from dailypapers.sources.arxiv_oai import OaiPage, parse_list_records

MAX_WAIT = 300.0  # seconds: a Retry-After past this is capped (arXiv asks for seconds to minutes)


class OaiUnavailable(Exception):
    """The repository did not give a usable answer within the retries."""


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) → seconds to wait; ``None`` if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class OaiClient:
    """``list_records`` pages of one OAI set; one HTTP connection pool per client."""

    def __init__(self, *, base_url: str, timeout: float = 60.0, min_interval: float = 3.0,
                 retries: int = 5, user_agent: str | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = base_url
        self.min_interval = min_interval
        self.retries = retries
        self._sleep, self._clock = sleep, clock
        self._last_request = float("-inf")
        self.requests = 0  # made so far, retries included (reported by `sync arxiv`)
        self._http = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=True,
                                  headers={"User-Agent": user_agent or f"dailypapers/{__version__}"})

    @classmethod
    def from_settings(cls, settings: Settings) -> OaiClient:
        return cls(base_url=settings.arxiv_oai_url, timeout=settings.arxiv_timeout,
                   min_interval=settings.arxiv_min_interval, retries=settings.arxiv_retries,
                   user_agent=f"dailypapers/{__version__} (+{settings.base_url})")

    def __enter__(self) -> OaiClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._http.close()

    def list_records(self, *, set_spec: str, date_from: dt.date | None = None,
                     token: str | None = None) -> OaiPage:
        """The first page of a harvest (``set_spec``, ``date_from``) or the page ``token`` names."""
        if token:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": set_spec}
            if date_from is not None:
                params["from"] = date_from.isoformat()
        problem = ""
        for attempt in range(self.retries + 1):
            wait = self._last_request + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
            retry_after: float | None = None
            try:
                self.requests += 1
                response = self._http.get(self.base_url, params=params)
                if response.status_code == 200:
                    return parse_list_records(response.content, source=str(response.url))
                problem = f"HTTP {response.status_code}"
                if response.status_code == 503:
                    retry_after = retry_after_seconds(response.headers.get("retry-after"))
                elif response.status_code < 500 and response.status_code != 429:
                    # 4xx: retrying cannot help. An OAI error document raises OaiError with its code.
                    with contextlib.suppress(FeedError):
                        parse_list_records(response.content, source=str(response.url))
                    raise OaiUnavailable(f"{self.base_url} answered {problem}")
            except httpx.TimeoutException:
                problem = f"no answer within {self._http.timeout.read} s"
            except httpx.HTTPError as exc:  # refused, reset, a body cut off mid-way
                problem = f"{type(exc).__name__}: {exc}"
            except FeedError as exc:  # truncated or garbled XML delivered as a whole
                problem = f"unusable response: {exc}"
            finally:
                self._last_request = self._clock()
            if attempt < self.retries:
                backoff = max(0.1, self.min_interval) * 2 ** attempt
                delay = retry_after if retry_after is not None else backoff
                self._sleep(max(0.0, min(delay, MAX_WAIT) - self.min_interval))
        raise OaiUnavailable(f"{self.base_url}: gave up after {self.retries + 1} attempts ({problem})")
