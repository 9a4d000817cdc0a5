"""``DAILYPAPERS_SYNC_SCHEDULE``: when the scheduled runs happen (pure; read by settings and the
scheduler).

Two forms, in UTC: times of day (``06:00`` or ``06:00,18:00``) or an interval (``every 6h``,
``every 30m``, ``every 90s``; slots aligned to the Unix epoch, so every process agrees on them).
A *slot* is the start of a period; a run is due when the newest slot has not been run yet.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$", re.IGNORECASE)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Schedule:
    times: tuple[dt.time, ...] = ()
    every: dt.timedelta | None = None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        value = text.strip()
        if (match := _EVERY.match(value)) is not None:
            seconds = int(match.group(1)) * _UNITS[match.group(2).lower()]
            if not 10 <= seconds <= 7 * 86400:
                raise ValueError(f"interval {value!r} must be between 10 seconds and 7 days")
            return cls(every=dt.timedelta(seconds=seconds))
        times = []
        for part in value.split(","):
            found = _TIME.match(part.strip())
            if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
                raise ValueError(f"{text!r} is neither UTC times of day ('06:00,18:00') nor an "
                                 "interval ('every 6h', 'every 30m')")
            times.append(dt.time(int(found.group(1)), int(found.group(2))))
        return cls(times=tuple(sorted(set(times))))

    def slot(self, now: dt.datetime) -> dt.datetime:
        """The start of the period ``now`` (naive UTC) is in."""
        if self.every is not None:
            return _EPOCH + self.every * ((now - _EPOCH) // self.every)
        for day in (now.date(), now.date() - dt.timedelta(days=1)):
            started = [dt.datetime.combine(day, t) for t in self.times if dt.datetime.combine(day, t) <= now]
            if started:
                return started[-1]
        raise AssertionError("a day always has a slot")

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        """The start of the next period after ``now``."""
        if self.every is not None:
            return self.slot(now) + self.every
        for day in (now.date(), now.date() + dt.timedelta(days=1)):
            later = [dt.datetime.combine(day, t) for t in self.times if dt.datetime.combine(day, t) > now]
            if later:
                return later[0]
        raise AssertionError("a day always has a slot")
