"""What the upstream clients (Hugging Face's daily papers, arXiv's export API, arXiv's OAI-PMH)
share: one httpx connection pool, a User-Agent naming this site, the context-manager protocol,
requests spaced ``min_interval`` seconds apart (arXiv's terms ask for it) and one retry policy.

The retry policy (``get_with_retries``), the strictest of what the clients did before sharing it:

- retried: timeouts, refused or cut connections, HTTP 429 and 5xx answers, and whatever the
  client's reader raises ``Retry`` for (a body cut off, unparseable XML);
- the wait before try n+1 is the server's ``Retry-After`` when a retried answer carries one (in
  seconds or as an HTTP date), else ``backoff * 2**n``; both at most ``MAX_WAIT``. The spacing
  between requests counts towards it, so a paced client does not wait twice;
- after ``retries`` retries the client's own error says what the last attempt saw.

A client without retries (the export API, asked while a member waits) uses ``paced_get`` only.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

import httpx

from dailypapers import __version__
from dailypapers.settings import Settings

log = logging.getLogger(__name__)

#: Seconds: a Retry-After or a backoff past this is capped (arXiv asks for seconds to minutes).
MAX_WAIT = 300.0

T = TypeVar("T")


class Retry(Exception):
    """A failure worth another try; ``wait`` is what the server asked for, if it did."""

    def __init__(self, reason: str, wait: float | None = None, *, bad: bool = False) -> None:
        super().__init__(reason)
        self.wait = wait
        self.bad = bad  # the server answered, but unusably (the client may raise another error)


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


def user_agent_for(settings: Settings) -> str:
    """``dailypapers/VERSION (+BASE_URL)``: upstreams can tell which site is asking."""
    return f"dailypapers/{__version__} (+{settings.base_url})"


class SourceClient:
    """The HTTP plumbing of one upstream client; subclasses add what they ask and how they read it."""

    def __init__(self, *, timeout: float, user_agent: str | None = None,
                 headers: dict[str, str] | None = None, min_interval: float = 0.0,
                 retries: int = 0, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.min_interval = min_interval
        self.retries = retries
        self.backoff = backoff
        self._sleep, self._clock = sleep, clock
        self._last_request = float("-inf")
        self.requests = 0  # made so far, retries included
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=True,
            headers={"User-Agent": user_agent or f"dailypapers/{__version__}", **(headers or {})})

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def paced_get(self, url: str, params: dict[str, str]) -> httpx.Response:
        """One GET, at least ``min_interval`` seconds after the previous one ended; httpx's
        exceptions pass through."""
        wait = self._last_request + self.min_interval - self._clock()
        if wait > 0:
            self._sleep(wait)
        try:
            self.requests += 1
            return self._http.get(url, params=params)
        finally:
            self._last_request = self._clock()

    def _attempt(self, url: str, params: dict[str, str]) -> httpx.Response:
        """``paced_get`` with transport failures and 429/5xx answers turned into ``Retry``."""
        try:
            response = self.paced_get(url, params)
        except httpx.TimeoutException:
            raise Retry(f"no answer in time ({self.timeout:g} s)") from None
        except httpx.RemoteProtocolError as exc:
            raise Retry(f"connection cut off ({exc})") from None
        except httpx.HTTPError as exc:
            raise Retry(f"cannot connect ({type(exc).__name__}: {exc})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise Retry(f"HTTP {response.status_code}",
                        retry_after_seconds(response.headers.get("retry-after")))
        return response

    def get_with_retries(self, url: str, params: dict[str, str], *,
                         read: Callable[[httpx.Response], T],
                         give_up: Callable[[Retry, int], Exception], label: str) -> T:
        """GET and ``read`` the answer, retried as the module docstring says. ``read`` raises
        ``Retry`` for a transient problem of the body, or the client's own error to stop at once;
        ``give_up(last, attempts)`` makes the error raised once the retries are spent."""
        for attempt in range(self.retries + 1):
            try:
                return read(self._attempt(url, params))
            except Retry as exc:
                if attempt == self.retries:
                    raise give_up(exc, attempt + 1) from None
                delay = min(exc.wait if exc.wait is not None else self.backoff * 2 ** attempt, MAX_WAIT)
                log.warning("%s: %s; retrying in %.1f s", label, exc, delay)
                self._sleep(max(0.0, delay - self.min_interval))  # the spacing waits the rest
        raise AssertionError("unreachable")
