"""The sync schedule (``DAILYPAPERS_SYNC_SCHEDULE``): which period is due and when the next one is.

The ``schedule`` row of ``sync_state`` holds the newest period (slot) whose run completed as its
cursor, and the lease of the process running it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dailypapers.schedule import Schedule
from dailypapers.services import sync_state
from dailypapers.settings import Settings

SCHEDULE = "schedule"


def due_slot(*, db: Session, schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The current period's slot when its run has not completed yet, else ``None``."""
    slot = schedule.slot(now)
    done = sync_state.get_cursor(db=db, source=SCHEDULE)
    return slot if done is None or dt.datetime.fromisoformat(done) < slot else None


def next_runs(*, db: Session, settings: Settings, now: dt.datetime) -> dict[str, dt.datetime]:
    """When each scheduled source runs next (now, if its period is due); empty without a schedule."""
    if not settings.sync_schedule:
        return {}
    schedule = Schedule.parse(settings.sync_schedule)
    when = now if due_slot(db=db, schedule=schedule, now=now) else schedule.next_slot(now)
    return {name: when for name in [*settings.sync_source_list, SCHEDULE]}
