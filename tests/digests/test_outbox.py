"""The outbox: who gets mail, retries and backoff, permanent failures, claims and fencing."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from sqlalchemy import update
from sqlalchemy.orm import Session

from dailypapers.mail.session import CommitRefused, session_from_settings
from dailypapers.services import outbox
from dailypapers.services.digests import DigestPeriod
from dailypapers.settings import Settings
from dailypapers.store.base import utcnow
from dailypapers.store.deliveries import Delivery
from tests.digests.helpers import deliveries, featured_papers, run
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_subscription

NO_WAIT = outbox.OutboxPolicy(retry_base=dt.timedelta(0), failures_before_pause=2)


def test_only_active_confirmed_subscriptions_get_digests(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3, 2])
    make_subscription(db, email="active@example.org")
    make_subscription(db, email="unconfirmed@example.org", confirmed=False)
    make_subscription(db, email="gone@example.org", unsubscribed_at=utcnow())
    make_subscription(db, email="paused@example.org", paused_at=utcnow())
    summary = run(db, settings)
    assert summary.sent == 1
    assert [m.to for m in smtp_sink.messages] == ["active@example.org"]
    assert len(deliveries(db)) == 1


def test_a_second_run_of_the_same_period_sends_nothing(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    for i in range(5):
        make_subscription(db, email=f"r{i}@example.org")
    assert run(db, settings).sent == 5
    again = run(db, settings)
    assert (again.enqueued, again.sent) == (0, 0)
    assert len(smtp_sink.messages) == 5


def test_unsubscribing_after_enqueue_skips_the_queued_digest(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    sub = make_subscription(db, email="ada@example.org")
    outbox.enqueue(db=db, now=utcnow(), period=DigestPeriod.parse("daily:2025-01-02"))
    sub.unsubscribed_at = utcnow()
    db.commit()
    summary = run(db, settings)
    assert (summary.sent, summary.skipped) == (0, 1) and smtp_sink.messages == []
    assert deliveries(db)[0].status == "skipped"


def test_temporary_failure_is_retried_on_a_later_run_with_backoff(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    make_subscription(db, email="busy@example.org")
    make_subscription(db, email="fine@example.org")
    smtp_sink.refuse["busy@example.org"] = "451 4.2.0 mailbox busy, try later"
    summary = run(db, settings)  # default policy: 10 minutes of backoff
    assert (summary.sent, summary.retrying, summary.error) == (1, 1, None)
    busy = deliveries(db)[0]
    assert (busy.status, busy.attempts) == ("pending", 1)
    assert "451" in busy.last_error and busy.next_attempt_at > utcnow() + dt.timedelta(minutes=9)
    # Not due yet: the next run leaves it alone …
    assert run(db, settings).sent == 0
    # … and once the backoff is over (and the mailbox accepts again) it is delivered, once.
    del smtp_sink.refuse["busy@example.org"]
    db.execute(update(Delivery).values(next_attempt_at=utcnow()))
    db.commit()
    assert run(db, settings).sent == 1
    assert smtp_sink.count_by_recipient() == {"busy@example.org": 1, "fine@example.org": 1}


def test_a_run_does_not_retry_in_a_loop(db: Session, settings: Settings,
                                        smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    make_subscription(db, email="busy@example.org")
    smtp_sink.refuse["busy@example.org"] = "451 try later"
    summary = run(db, settings, policy=NO_WAIT)  # no backoff at all
    assert summary.retrying == 1 and deliveries(db)[0].attempts == 1


def test_permanent_failures_count_and_pause_the_subscription(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3, 2, 1])
    sub = make_subscription(db, email="nobody@example.org", num_papers=1)
    smtp_sink.refuse["nobody@example.org"] = "550 5.1.1 no such user"
    first = run(db, settings, "daily:2025-01-02", policy=NO_WAIT)
    assert (first.failed, first.paused) == (1, 0)
    second = run(db, settings, "daily:2025-01-03", policy=NO_WAIT)
    assert (second.failed, second.paused) == (1, 1)
    db.refresh(sub)
    assert sub.status == "paused" and sub.failure_count == 2 and "550" in sub.last_failure
    assert [d.status for d in deliveries(db)] == ["failed", "failed"]
    # Paused: not even queued any more.
    assert run(db, settings, "daily:2025-01-06", policy=NO_WAIT).enqueued == 0
    assert smtp_sink.messages == []


def test_a_success_resets_the_failure_count(db: Session, settings: Settings,
                                            smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3, 2])
    sub = make_subscription(db, email="flaky@example.org", num_papers=1)
    smtp_sink.refuse["flaky@example.org"] = "552 mailbox full"
    run(db, settings, "daily:2025-01-02", policy=NO_WAIT)
    del smtp_sink.refuse["flaky@example.org"]
    run(db, settings, "daily:2025-01-03", policy=NO_WAIT)
    db.refresh(sub)
    assert sub.failure_count == 0 and sub.status == "active"


def test_claims_are_fenced_by_their_token(db: Session, settings: Settings,
                                          smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    make_subscription(db, email="ada@example.org")
    outbox.enqueue(db=db, now=utcnow(), period=DigestPeriod.parse("daily:2025-01-02"))
    policy = outbox.OutboxPolicy(lease=dt.timedelta(seconds=-1))  # leases run out at once
    [first] = outbox.claim(db=db, worker="other-host:1", policy=policy)
    # What the first worker holds in its memory (another process in real life).
    stale = Delivery(id=first.id, subscription_id=first.subscription_id, period=first.period,
                     claim_token=first.claim_token, attempts=first.attempts)
    [fresh] = outbox.claim(db=db, worker="other-host:2", policy=policy)
    assert stale.id == fresh.id and stale.claim_token != fresh.claim_token
    # The first worker comes back and tries to send: its commit is refused, nothing goes out.
    mail = session_from_settings(settings)
    summary = outbox.RunSummary()
    from dailypapers.services.digests import DigestRun

    digest_run = DigestRun(db=db, settings=settings, now=utcnow())
    sub = db.get(outbox.Subscription, stale.subscription_id)
    outbox._deliver_one(db=db, mail=mail, run=digest_run, delivery=stale, sub=sub,
                        policy=policy, summary=summary)
    mail.close()
    assert summary.sent == 0 and smtp_sink.messages == []
    assert deliveries(db)[0].claim_token == fresh.claim_token


def test_claims_of_a_dead_process_are_taken_over_at_once(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    make_subscription(db, email="ada@example.org")
    outbox.enqueue(db=db, now=utcnow(), period=DigestPeriod.parse("daily:2025-01-02"))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = f"{outbox.worker_id().rsplit(':', 1)[0]}:{gone.stdout.strip()}"
    # A live holder (this very process) with an unexpired lease keeps its row …
    [row] = outbox.claim(db=db, worker=outbox.worker_id(), policy=outbox.OutboxPolicy())
    assert row.lease_until > utcnow() + dt.timedelta(minutes=4)
    assert outbox.claim(db=db, worker="x:1", policy=outbox.OutboxPolicy()) == []
    assert run(db, settings).sent == 0
    # … but once the holder is a process of this host that is gone, a run takes the row over
    # at once instead of waiting for the lease.
    db.execute(update(Delivery).values(claimed_by=dead))
    db.commit()
    assert run(db, settings).sent == 1
    assert len(smtp_sink.messages) == 1


def test_commit_refused_abandons_the_message_before_its_end(settings: Settings,
                                                            smtp_sink: SmtpSink) -> None:
    from dailypapers.mail import compose

    session = session_from_settings(settings)
    msg = compose(sender=settings.mail_from, to="ada@example.org", subject="s", text="body")
    try:
        session.send(msg, commit=lambda: False)
    except CommitRefused:
        pass
    else:
        raise AssertionError("send went on after commit() refused")
    session.send(compose(sender=settings.mail_from, to="bob@example.org", subject="s",
                         text=".leading dot\n.\nend"), commit=lambda: True)
    session.close()
    assert [m.to for m in smtp_sink.messages] == ["bob@example.org"]
    body = smtp_sink.messages[0].message.get_content().replace("\r\n", "\n")
    assert body == ".leading dot\n.\nend\n"  # dot-stuffing undone by the server


def test_dry_run_composes_but_stores_and_sends_nothing(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    make_subscription(db, email="ada@example.org")
    make_subscription(db, email="unconfirmed@example.org", confirmed=False)
    summary = outbox.preview_digests(db=db, settings=settings,
                                     period=DigestPeriod.parse("daily:2025-01-02"))
    assert summary.dry_run and summary.sent == 1
    assert summary.subjects == ["ada@example.org: Daily Papers: today's trending papers · "
                                "Thu, Jan 2, 2025"]
    assert "would send" in summary.line()
    assert deliveries(db) == [] and smtp_sink.messages == []


def test_a_delivery_records_the_runs_time_as_its_sent_at(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    """A run given ``now`` (a back-dated or replayed run) stamps that time, which the next run's
    "new since the last digest" compares with its own ``now``; the wall clock would be months off."""
    featured_papers(db, [3, 2])
    make_subscription(db, email="ada@example.org")
    when = dt.datetime(2025, 1, 3, 9, 30)
    summary = outbox.send_digests(db=db, settings=settings, mail=session_from_settings(settings),
                                  period=DigestPeriod.parse("daily:2025-01-02"), now=when)
    assert summary.sent == 1
    assert [d.sent_at for d in deliveries(db)] == [when]
