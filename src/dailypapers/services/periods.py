"""Periods of the daily lists: a day, an ISO week or a calendar month, and their URL slugs.

Slugs are the ones Hugging Face uses in its URLs and API parameters: ``2025-11-20``,
``2025-W47`` (ISO 8601 week) and ``2025-11``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["day", "week", "month"]

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SEGMENT: dict[PeriodKind, str] = {"day": "date", "week": "week", "month": "month"}
_FORMAT: dict[PeriodKind, str] = {"day": "YYYY-MM-DD", "week": "YYYY-Www", "month": "YYYY-MM"}


class PeriodError(ValueError):
    """A period slug that is malformed or names no real day, week or month."""


@dataclass(frozen=True)
class Period:
    """The days ``start`` (inclusive) to ``end`` (exclusive) of one day, ISO week or month."""

    kind: PeriodKind
    start: dt.date
    end: dt.date

    @property
    def slug(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def path(self) -> str:
        """The page of this period, e.g. ``/papers/week/2025-W47``."""
        return f"/papers/{_SEGMENT[self.kind]}/{self.slug}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%b %-d, %Y")
        if self.kind == "week":
            last = self.end - dt.timedelta(days=1)
            return (f"Week {self.start.isocalendar()[1]}, "
                    f"{self.start.strftime('%b %-d')} – {last.strftime('%b %-d, %Y')}")
        return self.start.strftime("%B %Y")

    @property
    def short_label(self) -> str:
        """The heading as the seeds show it for a day ("Nov 20")."""
        if self.kind == "day":
            return self.start.strftime("%b %-d")
        if self.kind == "week":
            return f"Week {self.start.isocalendar()[1]}"
        return self.start.strftime("%B")

    @property
    def sub_label(self) -> str:
        """What ``short_label`` leaves out: the year, and a week's first and last day."""
        if self.kind == "week":
            last = self.end - dt.timedelta(days=1)
            return f"{self.start.strftime('%b %-d')} – {last.strftime('%b %-d, %Y')}"
        return str(self.start.year)


def containing(kind: PeriodKind, day: dt.date) -> Period:
    """The day, ISO week or month that contains ``day``."""
    if kind == "day":
        return Period("day", day, day + dt.timedelta(days=1))
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return Period("week", start, start + dt.timedelta(days=7))
    start = day.replace(day=1)
    nxt = (start + dt.timedelta(days=32)).replace(day=1)
    return Period("month", start, nxt)


def overlap(periods: list[Period]) -> Period | None:
    """The days common to all ``periods`` (the narrowest one's kind), or None when they share none:
    ``date=2025-01-06&month=2025-01`` is that day, ``date=2025-02-01&month=2025-01`` nothing."""
    start = max(p.start for p in periods)
    end = min(p.end for p in periods)
    if start >= end:
        return None
    narrowest = min(periods, key=lambda p: p.end - p.start)
    return Period(narrowest.kind, start, end)


def parse_period(kind: PeriodKind, text: str) -> Period:
    """``2025-11-20`` / ``2025-W47`` / ``2025-11`` → Period; ``PeriodError`` says what is wrong."""
    pattern = {"day": _DAY, "week": _WEEK, "month": _MONTH}[kind]
    match = pattern.match(text)
    if match is None:
        raise PeriodError(f"{kind} must look like {_FORMAT[kind]}, got {text[:40]!r}")
    try:
        if kind == "day":
            first = dt.date(*(int(g) for g in match.groups()))
        elif kind == "week":
            first = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        else:
            first = dt.date(int(match.group(1)), int(match.group(2)), 1)
        return containing(kind, first)
    except (ValueError, OverflowError) as exc:
        raise PeriodError(f"{text!r} is not a real {kind}: {exc}") from exc
