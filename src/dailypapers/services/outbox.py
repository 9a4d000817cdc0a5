"""The digest outbox: enqueue what is due, claim it, send it, retry or give up — never twice.

Recovery rules (docs/digests.md explains them with the failure windows):

- A row is *claimed* with a fresh random ``claim_token`` and a lease. A claimed row whose lease
  ran out, or whose worker is a process of this host that no longer exists, may be claimed
  again; the new token fences the old worker out.
- The SMTP session writes a message up to, not including, the final "." of DATA; then this
  module commits ``claimed → sent`` *guarded by the token*; only then is the dot written.
  So a crash before that commit leaves a claimed row and a message the server discarded, and
  a crash after it leaves a sent row and a delivered message.
- Temporary failures (4xx) go back to pending with exponential backoff; permanent ones (5xx)
  fail the delivery and count against the subscription, which is paused after
  ``digest_failures_before_pause`` in a row. An unreachable server stops the run: nothing is
  held against anyone, and every claimed row is released for the next run.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from dailypapers.mail.session import (
    CommitRefused, MailSession, NoReplyAfterCommit, Rejected, ServerUnavailable,
)
from dailypapers.services.digests import DigestPeriod, DigestRun, due_period
from dailypapers.settings import Settings
from dailypapers.store.base import utcnow
from dailypapers.store.deliveries import Delivery, insert_missing
from dailypapers.store.subscriptions import Subscription

Progress = Callable[[int], None]


def worker_id() -> str:
    """``host:pid`` of this process, written on each claim so that the same host can tell a
    crashed worker from a live one."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class OutboxPolicy:
    lease: dt.timedelta = dt.timedelta(minutes=5)
    retry_base: dt.timedelta = dt.timedelta(minutes=10)
    retry_max: dt.timedelta = dt.timedelta(hours=6)
    max_attempts: int = 5
    failures_before_pause: int = 3
    batch_size: int = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxPolicy:
        return cls(lease=dt.timedelta(seconds=settings.digest_lease_seconds),
                   retry_base=dt.timedelta(seconds=settings.digest_retry_seconds),
                   max_attempts=settings.digest_max_attempts,
                   failures_before_pause=settings.digest_failures_before_pause)

    def backoff(self, attempts: int) -> dt.timedelta:
        return min(self.retry_base * (1 << max(attempts - 1, 0)), self.retry_max)


@dataclass
class RunSummary:
    enqueued: int = 0
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    paused: int = 0
    waiting: int = 0  # pending rows left for a later run (backoff, or the run stopped)
    dry_run: bool = False
    error: str | None = None
    subjects: list[str] = field(default_factory=list)
    # Deliveries this run put back for a retry: not claimed again by the same run.
    retry_ids: set[int] = field(default_factory=set)

    def line(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        parts = [f"{self.enqueued} queued", f"{self.sent} {verb}", f"{self.skipped} skipped",
                 f"{self.retrying} to retry", f"{self.failed} failed",
                 f"{self.paused} subscriptions paused", f"{self.waiting} waiting"]
        return "digest: " + ", ".join(parts)


# --- enqueue ------------------------------------------------------------------------------

def due_deliveries(*, db: Session, now: dt.datetime,
                   period: DigestPeriod | None = None) -> dict[str, list[int]]:
    """Subscription ids due now, by period key. With ``period``, every active subscription of
    that cadence is due for it, whatever its hour and day."""
    subs = db.execute(select(Subscription.id, Subscription.cadence, Subscription.weekday,
                             Subscription.send_hour, Subscription.timezone)
                      .where(Subscription.confirmed_at.is_not(None),
                             Subscription.unsubscribed_at.is_(None),
                             Subscription.paused_at.is_(None))
                      .order_by(Subscription.id)).all()
    due: dict[str, list[int]] = defaultdict(list)
    for sid, cadence, weekday, hour, tz in subs:
        if period is not None:
            if cadence == period.cadence:
                due[period.key].append(sid)
            continue
        found = due_period(cadence=cadence, weekday=weekday, send_hour=hour, timezone=tz,
                           now=now)
        if found is not None:
            due[found.key].append(sid)
    return dict(due)


def enqueue(*, db: Session, now: dt.datetime, period: DigestPeriod | None = None) -> int:
    """Insert a pending delivery for each due subscription that has none for its period."""
    added = 0
    for key, ids in due_deliveries(db=db, now=now, period=period).items():
        for start in range(0, len(ids), 500):
            added += insert_missing(db=db, period=key, subscription_ids=ids[start:start + 500])
    db.commit()
    return added


# --- claim --------------------------------------------------------------------------------

def _dead_local_workers(*, db: Session, now: dt.datetime) -> list[str]:
    """Workers of this host holding unexpired claims whose process is gone (crashed, killed)."""
    host = socket.gethostname()
    holders = db.scalars(select(Delivery.claimed_by).distinct().where(
        Delivery.status == "claimed", Delivery.lease_until >= now)).all()
    db.commit()  # end the read before a write (SQLite upgrades a read lock badly)
    dead = []
    for holder in filter(None, holders):
        name, _, pid = holder.rpartition(":")
        if name != host or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            dead.append(holder)
        except PermissionError:
            pass  # alive, someone else's
    return dead


def claim(*, db: Session, worker: str, policy: OutboxPolicy, limit: int | None = None,
          exclude: frozenset[int] = frozenset()) -> list[Delivery]:
    """Claim up to ``limit`` deliveries that are due (not those in ``exclude``: a run retries a
    failed delivery on a later run, never in a loop); returns them with their claim token.

    One statement (``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``) so that
    PostgreSQL workers skip each other's rows and SQLite takes its write lock at once.
    """
    now = utcnow()
    dead = _dead_local_workers(db=db, now=now)
    claimable = or_(
        and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
        and_(Delivery.status == "claimed",
             or_(Delivery.lease_until < now, Delivery.claimed_by.in_(dead) if dead else false())),
    )
    if exclude:
        claimable = and_(claimable, Delivery.id.not_in(exclude))
    picked = (select(Delivery.id).where(claimable).order_by(Delivery.id)
              .limit(limit or policy.batch_size).with_for_update(skip_locked=True))
    token = secrets.token_hex(16)
    db.execute(update(Delivery).where(Delivery.id.in_(picked.scalar_subquery()))
               .values(status="claimed", claim_token=token, claimed_by=worker,
                       lease_until=now + policy.lease)
               .execution_options(synchronize_session=False))
    db.commit()
    # populate_existing: rows this session loaded before must show the new claim, not the old.
    return list(db.scalars(select(Delivery).where(Delivery.claim_token == token)
                           .order_by(Delivery.id)
                           .execution_options(populate_existing=True)).all())


# --- one delivery -------------------------------------------------------------------------

def _guarded(delivery: Delivery, status: str) -> list[ColumnElement[bool]]:
    return [Delivery.id == delivery.id, Delivery.claim_token == delivery.claim_token,
            Delivery.status == status]


def _settle(db: Session, delivery: Delivery, *, status: str, from_status: str = "claimed",
            **values: object) -> bool:
    done: bool = db.execute(update(Delivery).where(*_guarded(delivery, from_status))
                      .values(status=status, **values)
                      .execution_options(synchronize_session=False)
                      ).rowcount == 1  # type: ignore[attr-defined]  # DML gives a CursorResult
    db.commit()
    return done


def _release(db: Session, delivery: Delivery, *, error: str, at: dt.datetime,
             from_status: str = "claimed", attempted: bool = False) -> bool:
    values: dict[str, object] = {"last_error": error[:2000], "next_attempt_at": at,
                                 "claim_token": None, "lease_until": None}
    if attempted:
        values["attempts"] = Delivery.attempts + 1
    return _settle(db, delivery, status="pending", from_status=from_status, **values)


def _count_failure(db: Session, sub: Subscription, error: str, policy: OutboxPolicy,
                   summary: RunSummary) -> None:
    sub.failure_count = (sub.failure_count or 0) + 1
    sub.last_failure = error[:2000]
    if sub.failure_count >= policy.failures_before_pause and sub.paused_at is None:
        sub.paused_at = utcnow()
        summary.paused += 1
    db.commit()


def _fail_or_retry(db: Session, delivery: Delivery, sub: Subscription, exc: Rejected,
                   policy: OutboxPolicy, summary: RunSummary) -> None:
    from_status = "sent" if exc.committed else "claimed"
    attempts = delivery.attempts + 1
    if not exc.permanent and attempts < policy.max_attempts:
        if _release(db, delivery, error=str(exc), at=utcnow() + policy.backoff(attempts),
                    from_status=from_status, attempted=True):
            summary.retrying += 1
            summary.retry_ids.add(delivery.id)
        return
    if _settle(db, delivery, status="failed", from_status=from_status, last_error=str(exc)[:2000],
               attempts=attempts, claim_token=None, lease_until=None, sent_at=None):
        summary.failed += 1
        _count_failure(db, sub, str(exc), policy, summary)


def _deliver_one(*, db: Session, mail: MailSession, run: DigestRun, delivery: Delivery,
                 sub: Subscription | None, policy: OutboxPolicy, summary: RunSummary) -> None:
    if sub is None or not sub.is_active:
        if _settle(db, delivery, status="skipped", last_error="subscription not active",
                   claim_token=None, lease_until=None):
            summary.skipped += 1
        return
    digest = run.compose(subscription=sub, period=DigestPeriod.parse(delivery.period))
    if digest is None:
        if _settle(db, delivery, status="skipped", last_error="nothing new to send",
                   claim_token=None, lease_until=None):
            summary.skipped += 1
        return
    message = run.message(digest, delivery_id=delivery.id)
    message_id = str(message["Message-ID"])

    def commit() -> bool:
        done: bool = db.execute(update(Delivery).where(*_guarded(delivery, "claimed")).values(
            # The run's time, not the clock's: "new since the last digest" (DigestRun.since_last_digest)
            # compares it with a later run's ``now``, so a run given a ``now`` must record that one.
            status="sent", sent_at=run.now, message_id=message_id, subject=digest.subject[:300],
            paper_keys=digest.paper_keys, attempts=Delivery.attempts + 1, last_error=None,
            lease_until=None).execution_options(synchronize_session=False)
        ).rowcount == 1  # type: ignore[attr-defined]  # DML gives a CursorResult
        if done and sub.failure_count:
            sub.failure_count = 0
        db.commit()
        return done

    try:
        mail.send(message, commit=commit)
    except CommitRefused:
        return  # another worker owns it now; it sends it
    except NoReplyAfterCommit as exc:
        db.execute(update(Delivery).where(Delivery.id == delivery.id)
                   .values(last_error=str(exc)[:2000]))
        db.commit()
    except Rejected as exc:
        _fail_or_retry(db, delivery, sub, exc, policy, summary)
        return
    summary.sent += 1
    if len(summary.subjects) < 3:
        summary.subjects.append(digest.subject)


# --- a run --------------------------------------------------------------------------------

def preview_digests(*, db: Session, settings: Settings, period: DigestPeriod | None = None,
                    now: dt.datetime | None = None) -> RunSummary:
    """What ``send_digests`` would send now, composed but neither stored nor sent."""
    now = now or utcnow()
    summary = RunSummary(dry_run=True)
    run = DigestRun(db=db, settings=settings, now=now)
    work: list[tuple[int, str]] = list(db.execute(select(Delivery.subscription_id, Delivery.period)
                                                  .where(Delivery.status == "pending",
                                                         Delivery.next_attempt_at <= utcnow())).all())
    for key, ids in due_deliveries(db=db, now=now, period=period).items():
        have = set(db.scalars(select(Delivery.subscription_id).where(Delivery.period == key)))
        fresh = [sid for sid in ids if sid not in have]
        summary.enqueued += len(fresh)
        work.extend((sid, key) for sid in fresh)
    for sid, key in work:
        sub = db.get(Subscription, sid)
        digest = (run.compose(subscription=sub, period=DigestPeriod.parse(key))
                  if sub is not None and sub.is_active else None)
        if digest is None:
            summary.skipped += 1
            continue
        summary.sent += 1
        if len(summary.subjects) < 3:
            summary.subjects.append(f"{sub.email}: {digest.subject}")  # type: ignore[union-attr]
    db.rollback()
    return summary


def waiting_count(*, db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.status.in_(("pending", "claimed")))) or 0


def send_digests(*, db: Session, settings: Settings, mail: MailSession,
                 period: DigestPeriod | None = None, now: dt.datetime | None = None,
                 on_total: Progress | None = None, on_progress: Progress | None = None,
                 policy: OutboxPolicy | None = None) -> RunSummary:
    """Enqueue what is due and send every deliverable digest; the one job behind
    ``dailypapers digest send`` and the scheduler in ``serve``.

    Returns the summary; ``summary.error`` is set when the SMTP server could not be used (every
    claimed row was released, nothing held against a subscriber).
    """
    now = now or utcnow()
    policy = policy or OutboxPolicy.from_settings(settings)
    summary = RunSummary(enqueued=enqueue(db=db, now=now, period=period))
    if on_total:
        on_total(db.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status.in_(("pending", "claimed")), Delivery.next_attempt_at <= utcnow()))
                 or 0)
    run = DigestRun(db=db, settings=settings, now=now)
    worker = worker_id()
    try:
        mail.connect()
        while batch := claim(db=db, worker=worker, policy=policy,
                             exclude=frozenset(summary.retry_ids)):
            subs = {s.id: s for s in db.scalars(select(Subscription).where(
                Subscription.id.in_([d.subscription_id for d in batch])))}
            run.load_history([d.subscription_id for d in batch])
            for index, delivery in enumerate(batch):
                try:
                    _deliver_one(db=db, mail=mail, run=run, delivery=delivery,
                                 sub=subs.get(delivery.subscription_id), policy=policy,
                                 summary=summary)
                except ServerUnavailable:
                    for rest in batch[index:]:
                        _release(db, rest, error="SMTP server unavailable", at=utcnow())
                    raise
                if on_progress:
                    on_progress(1)
    except ServerUnavailable as exc:
        summary.error = (f"{exc}. Nothing more was sent; the remaining digests stay queued "
                         "for the next run.")
    finally:
        mail.close()
    summary.waiting = waiting_count(db=db)
    return summary
