"""Read Hugging Face's daily-papers API (``GET {endpoint}/api/daily_papers?date=…&p=…&limit=…``),
or the same dialect served by another dailypapers instance.

Every failure is one of two exceptions, with a message an operator can act on:

- ``HfUnavailable``   the endpoint could not be reached, timed out, or kept answering with an HTTP
                      error after the retries;
- ``HfBadResponse``   it answered, but not with a JSON list of daily-paper items (a cut-off body
                      is retried first: it is usually a dropped connection).

Timeouts, 5xx, 429 and cut-off bodies are retried ``retries`` times, waiting 1, 2, 4… seconds or
what the server's ``Retry-After`` asks (up to ``http_client.MAX_WAIT``; the policy is
``http_client.SourceClient``'s). The client holds no database and no module state: it is an
object built from ``Settings``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from dailypapers.settings import Settings
from dailypapers.sources.hf_json import parse_hf_item
from dailypapers.sources.http_client import Retry, SourceClient, user_agent_for
from dailypapers.sources.records import PaperRecord, RecordError, Rejected

log = logging.getLogger(__name__)

# hf.co serves at most 100 items per page.
PAGE_SIZE = 100
# A day has at most a few hundred papers; an upstream that never sends a short page is broken.
MAX_PAGES = 50


class HfError(Exception):
    """Base of every error the client raises."""


class HfUnavailable(HfError):
    """The endpoint could not be reached, did not answer in time, or answered with an HTTP error."""


class HfBadResponse(HfError):
    """The endpoint answered with something that is not a JSON list of daily-paper items."""


@dataclass
class HfDay:
    """What the endpoint lists for one day: the good items as records, and the malformed ones."""

    day: dt.date
    records: list[PaperRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    pages: int = 0

    @property
    def fetched(self) -> int:
        return len(self.records) + len(self.rejected)


class HfClient(SourceClient):
    """A small client for ``/api/daily_papers``."""

    def __init__(self, *, endpoint: str, timeout: float = 30.0, retries: int = 4,
                 backoff: float = 1.0, page_size: int = PAGE_SIZE, user_agent: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(timeout=timeout, user_agent=user_agent, headers={"Accept": "application/json"},
                         retries=retries, backoff=backoff, sleep=sleep)
        self.endpoint = endpoint.rstrip("/")
        self.page_size = page_size

    @classmethod
    def from_settings(cls, settings: Settings) -> HfClient:
        return cls(endpoint=settings.hf_endpoint, timeout=settings.hf_timeout,
                   retries=settings.hf_retries, user_agent=user_agent_for(settings))

    @property
    def url(self) -> str:
        return f"{self.endpoint}/api/daily_papers"

    def day(self, day: dt.date) -> HfDay:
        """Every item listed for ``day``, page by page until a short page. Raises ``HfError``
        before returning anything when any page fails: a day is read whole or not at all."""
        out = HfDay(day=day)
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            items = self.page(day, page)
            out.pages += 1
            new = 0
            for index, item in enumerate(items, 1):
                where = f"{self.url}?date={day.isoformat()}&p={page}"
                try:
                    record = parse_hf_item(item)
                except RecordError as exc:
                    out.rejected.append(Rejected(where, index, f"item {index}: {exc}"))
                    continue
                if record.arxiv_id in seen:
                    continue
                seen.add(str(record.arxiv_id))
                new += 1
                out.records.append(record)
            if len(items) < self.page_size:
                return out
            if new == 0:
                # A full page of papers already read: the endpoint ignores ``p``. Stop here rather
                # than asking for the same page forever.
                log.warning("%s ignores the page parameter; read %d papers of %s", self.url,
                            len(out.records), day)
                return out
        raise HfBadResponse(f"{self.url}?date={day} sent {MAX_PAGES} full pages; giving up")

    def page(self, day: dt.date, page: int) -> list[Any]:
        """The raw items of one page (retried as the module docstring says)."""
        params = {"date": day.isoformat(), "p": str(page), "limit": str(self.page_size)}
        label = f"{self.url}?date={day}&p={page}"

        def give_up(last: Retry, attempts: int) -> HfError:
            error = HfBadResponse if last.bad else HfUnavailable
            return error(f"{label}: {last} (gave up after {attempts} attempts)")

        return self.get_with_retries(self.url, params, read=self._read, give_up=give_up, label=label)

    def _read(self, response: httpx.Response) -> list[Any]:
        if not response.is_success:
            raise HfUnavailable(f"{response.url} answered HTTP {response.status_code}")
        try:
            value = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) != len(response.content):
                raise Retry("body cut off", bad=True) from None
            if response.content.lstrip().startswith((b"[", b"{")):
                raise Retry(f"body cut off or not JSON ({exc})", bad=True) from None
            raise HfBadResponse(f"{response.url} did not answer with JSON "
                                f"({response.headers.get('content-type')!r})") from exc
        if not isinstance(value, list):
            raise HfBadResponse(f"{response.url} answered with a JSON {type(value).__name__}, "
                                "not a list of daily-paper items")
        return value
