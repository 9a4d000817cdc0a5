"""Crash safety: a real ``dailypapers digest send`` process is SIGKILLed in the middle of a run
over 2,000 subscribers, then run again; the SMTP server must have received exactly one digest
per subscriber.

The kill is triggered by the SMTP server itself at a chosen point of the dialogue, on both sides
of the outbox's point of no return (docs/digests.md):

- ``rcpt``: while the sender waits for the reply to RCPT TO of the 777th digest — before the
  delivery was committed as sent; the server never gets the message, the rerun must send it;
- ``accepted``: right after the server accepted the 777th digest — after the commit; the rerun
  must not send it again.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from dailypapers.store.base import utcnow
from dailypapers.store.deliveries import Delivery
from dailypapers.store.subscriptions import Subscription
from tests.digests.helpers import PERIOD, featured_papers
from tests.digests.smtp_sink import SmtpSink
from tests.server import settings_env

SUBSCRIBERS = 2000
KILL_AT = 777


def _subscribers(db: Session, n: int) -> list[str]:
    now = utcnow()
    emails = [f"reader{i:04d}@example.org" for i in range(n)]
    db.execute(insert(Subscription), [
        {"email": e, "email_key": e, "cadence": "daily", "weekday": 0, "send_hour": 8,
         "timezone": "UTC", "num_papers": 3, "topics": [], "token_nonce": secrets.token_hex(16),
         "failure_count": 0, "confirmed_at": now, "created_at": now, "updated_at": now}
        for e in emails])
    # Unconfirmed addresses are in the same table and must never receive anything.
    db.execute(insert(Subscription), [
        {"email": f"unconfirmed{i}@example.org", "email_key": f"unconfirmed{i}@example.org",
         "cadence": "daily", "weekday": 0, "send_hour": 8, "timezone": "UTC", "num_papers": 3,
         "topics": [], "token_nonce": secrets.token_hex(16), "failure_count": 0,
         "created_at": now, "updated_at": now} for i in range(20)])
    db.commit()
    return emails


def _send(settings: Settings) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dailypapers", "digest", "send",
                             "--period", PERIOD],
                            env=settings_env(settings), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _status_counts(db: Session) -> dict[str, int]:
    rows = db.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return dict(rows.all())


@pytest.mark.parametrize("kill_point", ["rcpt", "accepted"])
def test_sigkill_mid_run_then_rerun_delivers_exactly_one_digest_each(
        db: Session, settings: Settings, smtp_sink: SmtpSink, kill_point: str) -> None:
    featured_papers(db, [9, 7, 5])
    emails = _subscribers(db, SUBSCRIBERS)
    victim: dict[str, subprocess.Popen[bytes]] = {}
    killed: list[int] = []

    def kill(n: int, *_: object) -> None:
        if n == KILL_AT and not killed:
            os.kill(victim["proc"].pid, signal.SIGKILL)
            killed.append(n)

    if kill_point == "rcpt":
        smtp_sink.on_rcpt = kill
    else:
        smtp_sink.on_accepted = kill
    victim["proc"] = proc = _send(settings)
    out = proc.communicate(timeout=600)[0].decode()
    assert proc.returncode == -signal.SIGKILL, out
    assert killed == [KILL_AT]

    received_before = len(smtp_sink.messages)
    counts = _status_counts(db)
    if kill_point == "rcpt":
        # The 777th digest never reached the server; its row (and the rest of its claimed
        # batch) is still claimed by the dead process.
        assert received_before == KILL_AT - 1
        assert counts["sent"] == KILL_AT - 1 and counts["claimed"] >= 1
    else:
        # The server has the 777th digest, and the outbox already said so before its end.
        assert received_before == KILL_AT
        assert counts["sent"] == KILL_AT

    rerun = _send(settings)
    out = rerun.communicate(timeout=600)[0].decode()
    assert rerun.returncode == 0, out
    assert f"{SUBSCRIBERS - counts['sent']} sent" in out

    per_recipient = smtp_sink.count_by_recipient()
    assert sorted(per_recipient) == emails  # everyone, and no unconfirmed address
    assert set(per_recipient.values()) == {1}  # exactly once each
    db.expire_all()
    assert _status_counts(db) == {"sent": SUBSCRIBERS}
    assert len({m.message["Message-ID"] for m in smtp_sink.messages}) == SUBSCRIBERS


def test_three_concurrent_runs_share_the_work_and_send_each_digest_once(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    """Workers claim disjoint rows (FOR UPDATE SKIP LOCKED on PostgreSQL; one atomic UPDATE on
    SQLite): together they deliver every digest exactly once."""
    featured_papers(db, [9, 7, 5])
    emails = _subscribers(db, 600)
    workers = [_send(settings) for _ in range(3)]
    outputs = [w.communicate(timeout=600)[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], outputs
    per_recipient = smtp_sink.count_by_recipient()
    assert sorted(per_recipient) == emails and set(per_recipient.values()) == {1}
    db.expire_all()
    assert _status_counts(db) == {"sent": 600}
    sent_by = [int(re.search(r"(\d+) sent", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sum(sent_by) == 600
