"""``dailypapers digest send``: the summary, --dry-run, --period errors, and SMTP down."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy.orm import Session

from dailypapers.cli import main
from dailypapers.settings import Settings
from tests.digests.helpers import deliveries, featured_papers
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_subscription
from tests.server import settings_env


def _digest(settings: Settings, *args: str):
    return CliRunner().invoke(main, ["digest", *args], env=settings_env(settings),
                              catch_exceptions=False)


def test_send_prints_a_summary_and_dry_run_changes_nothing(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [4, 2])
    make_subscription(db, email="ada@example.org")
    dry = _digest(settings, "send", "--period", "daily:2025-01-02", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would send ada@example.org: Daily Papers: today's trending papers" in dry.stderr
    assert "1 would send" in dry.stderr
    assert deliveries(db) == [] and smtp_sink.messages == []
    sent = _digest(settings, "send", "--period", "daily:2025-01-02")
    assert sent.exit_code == 0, sent.output
    assert sent.stderr.strip().splitlines()[-1] == (
        "digest: 1 queued, 1 sent, 0 skipped, 0 to retry, 0 failed, 0 subscriptions paused, "
        "0 waiting")
    assert [m.to for m in smtp_sink.messages] == ["ada@example.org"]


def test_a_bad_period_is_a_usage_error(settings: Settings, smtp_sink: SmtpSink) -> None:
    result = _digest(settings, "send", "--period", "daily:2025-02-30")
    assert result.exit_code == 2
    assert "--period" in result.stderr and "daily:YYYY-MM-DD" in result.stderr


def test_smtp_down_sends_nothing_fails_clearly_and_the_next_run_delivers_all(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    featured_papers(db, [4, 2])
    for i in range(3):
        make_subscription(db, email=f"r{i}@example.org")
    smtp_sink.stop()
    down = _digest(settings, "send", "--period", "daily:2025-01-02")
    assert down.exit_code == 1
    assert f"SMTP server 127.0.0.1:{smtp_sink.port} is unavailable" in down.stderr
    assert "the remaining digests stay queued for the next run" in down.stderr
    rows = deliveries(db)
    assert len(rows) == 3 and {r.status for r in rows} == {"pending"}
    assert all(r.sent_at is None and r.attempts == 0 for r in rows)

    smtp_sink.start()
    back = _digest(settings, "send", "--period", "daily:2025-01-02")
    assert back.exit_code == 0, back.output
    assert "0 queued, 3 sent" in back.stderr  # the queued rows, not new ones
    assert smtp_sink.count_by_recipient() == {f"r{i}@example.org": 1 for i in range(3)}
    assert {r.status for r in deliveries(db)} == {"sent"}


def test_server_lost_mid_run_releases_the_rest(db: Session, settings: Settings,
                                               smtp_sink: SmtpSink) -> None:
    featured_papers(db, [4])
    for i in range(6):
        make_subscription(db, email=f"r{i}@example.org")
    # The server goes away while the third digest waits for its RCPT reply.
    smtp_sink.crash_at_rcpt = 3
    result = _digest(settings, "send", "--period", "daily:2025-01-02")
    assert result.exit_code == 1, result.output
    assert "digest: 6 queued, 2 sent" in result.stderr
    statuses = [r.status for r in deliveries(db)]
    assert statuses.count("sent") == 2 and statuses.count("pending") == 4
