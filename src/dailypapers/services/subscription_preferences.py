"""A subscriber's preferences: cadence, send time, size, topics and kind, validated from a form
and saved through the subscription's manage link (``subscriptions.subscription_for_token``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dailypapers.services.subscriptions import CONTROL, SubscriptionError, subscription_for_token
from dailypapers.store.base import utcnow
from dailypapers.store.subscriptions import CADENCES, KINDS, Subscription

MAX_TOPICS = 5
MAX_TOPIC = 200
MAX_PAPERS = 30


@dataclass(frozen=True)
class Preferences:
    """What a subscriber chooses; built only through ``parse_preferences`` (which validates)."""

    cadence: str = "daily"
    weekday: int = 0
    send_hour: int = 8
    timezone: str = "UTC"
    num_papers: int = 10
    topics: tuple[str, ...] = field(default_factory=tuple)
    # "trending", or "for_you": the member's For you list first, then trending (needs an account).
    kind: str = "trending"


def _int_field(raw: object, name: str, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError as exc:
        raise SubscriptionError(f"{name} must be a whole number from {low} to {high}.") from exc
    if not low <= value <= high:
        raise SubscriptionError(f"{name} must be from {low} to {high}.")
    return value


def parse_topics(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Topics from a textarea (one per line) or a list: trimmed, de-duplicated, validated."""
    lines = raw.splitlines() if isinstance(raw, str) else list(raw)
    topics: list[str] = []
    seen: set[str] = set()
    for line in lines:
        topic = " ".join(line.split())
        if not topic or topic.casefold() in seen:
            continue
        if len(topic) > MAX_TOPIC:
            raise SubscriptionError(f"A topic can be at most {MAX_TOPIC} characters long.")
        if CONTROL.search(topic):
            raise SubscriptionError("A topic cannot contain control characters.")
        seen.add(topic.casefold())
        topics.append(topic)
    if len(topics) > MAX_TOPICS:
        raise SubscriptionError(f"At most {MAX_TOPICS} topics, one per line.")
    return tuple(topics)


def parse_preferences(*, cadence: str, weekday: object, send_hour: object, timezone: str,
                      num_papers: object, topics: str | list[str] | tuple[str, ...],
                      kind: str = "trending") -> Preferences:
    """Validate raw form values; raises ``SubscriptionError`` naming the first bad field."""
    if cadence not in CADENCES:
        raise SubscriptionError("Cadence must be daily or weekly.")
    if kind not in KINDS:
        raise SubscriptionError("The digest is either trending papers or For you plus trending.")
    timezone = timezone.strip()
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise SubscriptionError(f"Unknown time zone {timezone[:64]!r}; use a name like "
                                "Europe/Paris or America/New_York.") from exc
    return Preferences(
        cadence=cadence,
        weekday=_int_field(weekday, "Weekday", 0, 6),
        send_hour=_int_field(send_hour, "Send hour", 0, 23),
        timezone=timezone,
        num_papers=_int_field(num_papers, "Number of papers", 1, MAX_PAPERS),
        topics=parse_topics(topics),
        kind=kind,
    )


def update_preferences(*, db: Session, secret: str, token: str, preferences: Preferences,
                       now: dt.datetime | None = None) -> Subscription:
    """Save the preferences of a manage link's subscription.

    Saving also lifts a pause after bounces: the person just proved they read the mail.
    """
    sub = subscription_for_token(db=db, secret=secret, token=token)
    if preferences.kind == "for_you" and sub.user_id is None:
        raise SubscriptionError("For you needs an account: subscribe while logged in to get it.")
    now = now or utcnow()
    sub.cadence = preferences.cadence
    sub.weekday = preferences.weekday
    sub.send_hour = preferences.send_hour
    sub.timezone = preferences.timezone
    sub.num_papers = preferences.num_papers
    sub.topics = list(preferences.topics)
    sub.kind = preferences.kind
    sub.paused_at = None
    sub.failure_count = 0
    sub.updated_at = now
    db.flush()
    return sub


def preferences_of(sub: Subscription) -> Preferences:
    return Preferences(cadence=sub.cadence, weekday=sub.weekday, send_hour=sub.send_hour,
                       timezone=sub.timezone, num_papers=sub.num_papers,
                       topics=tuple(sub.topics or ()), kind=sub.kind or "trending")
