"""The optional scheduler inside ``serve``: off by default; when on, the server process itself
sends what is due, once."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from dailypapers.store.base import utcnow
from tests.digests.helpers import deliveries, featured_papers
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_subscription
from tests.server import running_server


def test_scheduler_is_off_by_default() -> None:
    assert Settings(environment="test").digest_scheduler is False


def test_serve_with_the_scheduler_sends_due_digests_once(
        db: Session, database: object, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [4, 8])
    # Weekly on today's weekday from midnight: due now, whatever day the test runs.
    make_subscription(db, email="ada@example.org", cadence="weekly",
                      weekday=utcnow().weekday(), send_hour=0)
    make_subscription(db, email="unconfirmed@example.org", cadence="weekly",
                      weekday=utcnow().weekday(), send_hour=0, confirmed=False)
    on = settings.model_copy(update={"digest_scheduler": True, "digest_scheduler_minutes": 1})
    with running_server(on):
        deadline = time.monotonic() + 60
        while not smtp_sink.messages and time.monotonic() < deadline:
            time.sleep(0.2)
    assert [m.to for m in smtp_sink.messages] == ["ada@example.org"]
    assert "this week's trending papers" in smtp_sink.messages[0].message["Subject"]
    [row] = deliveries(db)
    assert row.status == "sent" and row.period.startswith("weekly:")
