"""Four real ``dailypapers digest send`` processes over 2,000 subscribers on PostgreSQL: each
subscriber receives exactly one digest, counted at a real aiosmtpd server (issue 7 acceptance).

The workers must really overlap, or the test would pass with one worker doing everything: the
SMTP server holds every ``MAIL FROM`` until four different connections have sent one. A worker
only sends after it claimed a batch, so by then each of the four holds its own claimed rows
(``FOR UPDATE SKIP LOCKED``) and each must end up having sent something.

PostgreSQL only: it is the multi-machine setup this is about; SQLite's single-writer claims are
covered by the three-process test in ``test_crash.py`` on both backends.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from tests.digests.helpers import featured_papers
from tests.digests.smtp_sink import SmtpSink
from tests.digests.test_crash import _send, _status_counts, _subscribers

SENDERS = 4
SUBSCRIBERS = 2000
# Generous: four Python processes start on a loaded 2-core machine.
BARRIER_TIMEOUT = 180.0

pytestmark = pytest.mark.postgres_only


@dataclass
class BarrierSink(SmtpSink):
    """An SMTP sink that answers no ``MAIL FROM`` before ``parties`` sessions have sent one."""

    parties: int = SENDERS
    sessions: set[int] = field(default_factory=set)
    released: bool = False

    async def handle_MAIL(self, server: object, session: object, envelope: object, address: str,
                          mail_options: list[str]) -> str:
        self.sessions.add(id(session))
        deadline = time.monotonic() + BARRIER_TIMEOUT
        while not self.released and len(self.sessions) < self.parties:
            if time.monotonic() > deadline:
                break  # a worker died before sending: let the others go, the asserts will fail
            await asyncio.sleep(0.05)
        self.released = True
        envelope.mail_from = address  # type: ignore[attr-defined]
        envelope.mail_options.extend(mail_options)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp_sink() -> BarrierSink:  # type: ignore[override]
    sink = BarrierSink().start()
    yield sink  # type: ignore[misc]
    sink.stop()


def test_four_senders_deliver_one_digest_to_each_of_2000_subscribers(
        db: Session, settings: Settings, smtp_sink: BarrierSink) -> None:
    featured_papers(db, [9, 7, 5])
    emails = _subscribers(db, SUBSCRIBERS)
    workers = [_send(settings) for _ in range(SENDERS)]
    outputs = [w.communicate(timeout=900)[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0] * SENDERS, outputs

    assert len(smtp_sink.sessions) >= SENDERS  # all four reached the server at the same time
    per_recipient = smtp_sink.count_by_recipient()
    assert sorted(per_recipient) == emails  # every confirmed subscriber, nobody else
    assert set(per_recipient.values()) == {1}  # exactly one mail each
    assert len({m.message["Message-ID"] for m in smtp_sink.messages}) == SUBSCRIBERS

    db.expire_all()
    assert _status_counts(db) == {"sent": SUBSCRIBERS}
    sent_by = [int(re.search(r"(\d+) sent", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sum(sent_by) == SUBSCRIBERS
    assert min(sent_by) > 0, sent_by  # the work was shared, not done by one process
