"""Abuse limits shared by every web process, kept in the database (portable SQL, no server).

The algorithm is GCRA, the generic cell rate algorithm (as in redis-cell and throttled): a key
has a theoretical arrival time ``tat``; each allowed event moves it ``period / limit`` ahead, and
an event is refused while ``max(tat, now) + period / limit - now > period``. That allows a burst
of ``limit`` events and then ``limit`` per ``period`` — one row per key and one conditional
UPDATE per event, so concurrent processes cannot both take the last slot.

Nothing here commits: ``hit`` counts in the caller's transaction (``web.auth.limit_by_*`` give
it one of its own, so a refused request still counts and the route's work is not involved).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, case, delete, literal, select, update
from sqlalchemy.orm import Session

from dailypapers.services.errors import RateLimited
from dailypapers.store import RateLimit
from dailypapers.store.bulk import insert_if_absent


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    period_s: int
    message: str


LOGIN_ACCOUNT = Rule("login-account", 10, 900, "Too many failed logins for this account.")
LOGIN_IP = Rule("login-ip", 10, 900, "Too many failed logins from your address.")
SIGNUP_IP = Rule("signup-ip", 5, 3600, "Too many sign-ups from your address.")
SIGNUP_EMAIL = Rule("signup-email", 3, 3600, "Too many sign-ups for this address.")
RESET_IP = Rule("reset-ip", 5, 3600, "Too many password-reset requests from your address.")
RESET_EMAIL = Rule("reset-email", 3, 3600, "Too many password-reset requests for this address.")
SUBMIT_USER = Rule("submit-user", 10, 3600, "Too many submissions.")
COMMENT_USER = Rule("comment-user", 20, 600, "Too many comments.")
VOTE_USER = Rule("vote-user", 60, 60, "Too many votes.")
DISMISS_USER = Rule("dismiss-user", 60, 60, "Too many \"not interested\" at once.")
ORG_USER = Rule("org-user", 5, 3600, "Too many new organizations.")
LIBRARY_USER = Rule("library-user", 120, 60, "Too many library changes at once.")
IMPORT_USER = Rule("import-user", 20, 3600, "Too many imports.")

RULES = (LOGIN_ACCOUNT, LOGIN_IP, SIGNUP_IP, SIGNUP_EMAIL, RESET_IP, RESET_EMAIL, SUBMIT_USER,
         COMMENT_USER, VOTE_USER, ORG_USER, LIBRARY_USER, IMPORT_USER)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _params(rule: Rule, scale: float) -> tuple[int, int] | None:
    """(period, interval) in ms for the scaled rule, or None when limits are off."""
    if scale <= 0:
        return None
    limit = max(1, round(rule.limit * scale))
    period = rule.period_s * 1000
    return period, max(1, period // limit)


def _key(rule: Rule, subject: str) -> str:
    return f"{rule.name}:{subject.casefold()}"[:255]


def _refuse(rule: Rule, tat: int, now: int, period: int, interval: int) -> RateLimited:
    wait_ms = max(tat, now) + interval - period - now
    retry_after = max(1, math.ceil(wait_ms / 1000))
    return RateLimited(f"{rule.message} Try again in {retry_after} s.", retry_after=retry_after)


def hit(*, db: Session, rule: Rule, subject: str, scale: float = 1.0, now_ms: int | None = None) -> None:
    """Count one event for ``subject`` under ``rule`` in the caller's transaction; raise
    ``RateLimited`` if over (nothing counted then)."""
    params = _params(rule, scale)
    if params is None:
        return
    period, interval = params
    now = _now_ms() if now_ms is None else now_ms
    key = _key(rule, subject)
    t = cast(Table, RateLimit.__table__)  # a declarative model always maps a Table
    for _ in range(3):
        base = case((t.c.tat_ms > now, t.c.tat_ms), else_=literal(now))
        allowed = db.execute(
            update(t).where(t.c.key == key, base + interval - now <= period)
            .values(tat_ms=base + interval))
        if allowed.rowcount == 1:  # type: ignore[attr-defined]
            return
        tat = db.scalar(select(t.c.tat_ms).where(t.c.key == key))
        if tat is not None:
            if max(tat, now) + interval - now > period:
                raise _refuse(rule, tat, now, period, interval)
            # The row was created by a concurrent first event after our UPDATE looked (seen under
            # PostgreSQL's READ COMMITTED in a burst from one address): count on it, not refuse.
            continue
        if insert_if_absent(db=db, table=t, values={"key": key, "tat_ms": now + interval}):
            return
        # Another process created the row first; go round and take the UPDATE path.
    raise RuntimeError(f"rate limiter could not settle key {key!r}")


def check(*, db: Session, rule: Rule, subject: str, scale: float = 1.0, now_ms: int | None = None) -> None:
    """Raise ``RateLimited`` if one more event would be refused, without counting one."""
    params = _params(rule, scale)
    if params is None:
        return
    period, interval = params
    now = _now_ms() if now_ms is None else now_ms
    tat = db.scalar(select(RateLimit.tat_ms).where(RateLimit.key == _key(rule, subject)))
    if tat is not None and max(tat, now) + interval - now > period:
        raise _refuse(rule, tat, now, period, interval)


def reset(*, db: Session, rule: Rule, subject: str) -> None:
    """Forget a key's history (after a successful login the account's failures no longer count)."""
    db.execute(delete(RateLimit).where(RateLimit.key == _key(rule, subject)))
