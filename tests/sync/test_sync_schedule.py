"""The sync schedule: each period runs once across processes (a lease in sync_state), syncing,
then embedding, then sending the due digests."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import func, select

from dailypapers.schedule import Schedule
from dailypapers.services import sync_state
from dailypapers.services.sync_schedule import SCHEDULE, SyncScheduler, next_runs
from dailypapers.settings import Settings
from dailypapers.store import Embedding, Paper
from dailypapers.store.base import utcnow
from dailypapers.store.db import Database
from tests.conftest import HF_API, MODEL_CACHE
from tests.digests.conftest import smtp_sink  # noqa: F401 (fixture)
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_subscription
from tests.server import running_server
from tests.sync.hf_upstream import hf_upstream, load_days

SAVED = load_days(HF_API)


def _window(today: dt.date) -> dict[str, list]:
    """Two saved responses listed on yesterday and today (a refresh window of 2 days)."""
    return {(today - dt.timedelta(days=1)).isoformat(): SAVED["2025-11-20"],
            today.isoformat(): SAVED["2026-08-20"]}


def test_schedule_forms_and_their_slots():
    every = Schedule.parse("every 6h")
    now = dt.datetime(2026, 11, 29, 13, 5)
    assert every.slot(now) == dt.datetime(2026, 11, 29, 12) and every.next_slot(now) == dt.datetime(2026, 11, 29, 18)
    times = Schedule.parse("18:00, 06:00")
    assert times.slot(now) == dt.datetime(2026, 11, 29, 6) and times.next_slot(now) == dt.datetime(2026, 11, 29, 18)
    assert times.slot(dt.datetime(2026, 11, 29, 5)) == dt.datetime(2026, 11, 28, 18)
    assert times.next_slot(dt.datetime(2026, 11, 29, 19)) == dt.datetime(2026, 11, 30, 6)
    for bad in ("every 2s", "25:00", "daily", "every 8d"):
        with pytest.raises(ValueError):
            Schedule.parse(bad)
    with pytest.raises(ValueError, match="neither UTC times"):
        Settings(environment="test", sync_schedule="sometimes")


def test_two_processes_run_each_period_once_and_a_held_lease_keeps_others_out(
        settings, database, db, smtp_sink: SmtpSink):  # noqa: F811
    now = [dt.datetime.combine(utcnow().date(), dt.time(13, 5))]
    make_subscription(db, email="ada@example.org", cadence="weekly", weekday=now[0].weekday(), send_hour=0)
    with hf_upstream(_window(now[0].date())) as upstream:
        on = settings.model_copy(update={
            "sync_schedule": "every 1h", "hf_endpoint": upstream.base, "sync_hf_refresh_days": 2,
            "hf_retries": 0, "search_semantic": False, "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port, "smtp_security": "none"})
        first = SyncScheduler(settings=on, database=database, clock=lambda: now[0])
        second = SyncScheduler(settings=on, database=database, clock=lambda: now[0])
        assert next_runs(db=db, settings=on, now=now[0])["hf"] == now[0]  # due
        # Another process holds the lease: nobody else runs the period.
        assert sync_state.try_lease(db=db, source=SCHEDULE, holder="elsewhere", seconds=60, now=now[0])
        db.commit()
        assert first.run_due() is None and second.run_due() is None and upstream.requests == []
        sync_state.release_lease(db=db, source=SCHEDULE, holder="elsewhere")
        db.commit()
        run = first.run_due()
        assert run is not None and run.errors == [] and run.slot == dt.datetime.combine(now[0].date(), dt.time(13))
        assert second.run_due() is None and first.run_due() is None  # done for this period
        assert len(upstream.requests) == 2  # two days, one short page each
        assert [m.to for m in smtp_sink.messages] == ["ada@example.org"]
        titles = {i["title"] for items in _window(now[0].date()).values() for i in items}
        mail = smtp_sink.messages[0].message.get_body(("plain",)).get_content()
        assert any(" ".join(t.split()) in " ".join(mail.split()) for t in titles)  # synced first
        db.expire_all()
        assert next_runs(db=db, settings=on, now=now[0])["hf"] == dt.datetime.combine(now[0].date(), dt.time(14))
        now[0] += dt.timedelta(hours=1)  # the next period: run once more, by whichever comes first
        assert second.run_due() is not None and first.run_due() is None
        assert len(upstream.requests) == 4 and len(smtp_sink.messages) == 1  # a weekly digest: once
    states = {s.source: s for s in sync_state.statuses(db=db)}
    assert states[SCHEDULE].runs == 2 and states["hf"].runs == 2
    assert states[SCHEDULE].cursor == dt.datetime.combine(now[0].date(), dt.time(14)).isoformat()


def test_serve_with_two_workers_syncs_embeds_and_sends_once_per_period(
        settings, database, db, smtp_sink: SmtpSink, tmp_path):  # noqa: F811
    make_subscription(db, email="ada@example.org", cadence="weekly", weekday=utcnow().weekday(), send_hour=0)
    today = utcnow().date()
    with hf_upstream(_window(today)) as upstream:
        on = settings.model_copy(update={
            "sync_schedule": "every 15s", "hf_endpoint": upstream.base, "sync_hf_refresh_days": 2,
            "hf_retries": 0, "search_semantic": True, "search_model_cache_dir": MODEL_CACHE,
            "smtp_host": "127.0.0.1", "smtp_port": smtp_sink.port, "smtp_security": "none",
            "page_cache_seconds": 0})
        probe = Database(on.database_url)

        def schedule_runs() -> int:
            with probe.session() as s:
                found = {r.source: r for r in sync_state.statuses(db=s)}.get(SCHEDULE)
                return found.runs if found and found.last_success_at else 0

        with running_server(on, workers=2, timeout=120):
            deadline = time.monotonic() + 300
            # Two completed periods, polled from the database (no fixed sleeps).
            while schedule_runs() < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
        with probe.session() as s:
            states = {r.source: r for r in sync_state.statuses(db=s)}
            papers = s.scalar(select(func.count()).select_from(Paper))
            vectors = s.scalar(select(func.count()).select_from(Embedding))
        probe.dispose()
    runs = states[SCHEDULE].runs
    assert runs >= 2 and states[SCHEDULE].last_error is None
    # Each period synced each day of the window exactly once: no period ran twice.
    assert states["hf"].runs == runs
    for day in _window(today):
        assert len(upstream.requests_for(day)) == runs, upstream.requests
    assert papers == len(SAVED["2025-11-20"]) + len(SAVED["2026-08-20"])
    assert vectors == papers  # embedded, once each
    assert [m.to for m in smtp_sink.messages] == ["ada@example.org"]  # this week's digest, once


def test_sync_status_shows_checkpoint_last_run_counts_error_and_next_run(settings, database, db):
    from click.testing import CliRunner

    from dailypapers.cli import main
    from tests.server import settings_env

    with hf_upstream({"2026-08-20": SAVED["2026-08-20"]}) as upstream:
        upstream.faults = {"2026-08-21": ["503"]}
        env = {**settings_env(settings), "DAILYPAPERS_HF_ENDPOINT": upstream.base,
               "DAILYPAPERS_HF_RETRIES": "0", "DAILYPAPERS_SYNC_SCHEDULE": "every 6h"}
        runner = CliRunner()
        ok = runner.invoke(main, ["sync", "hf", "--date", "2026-08-20"], env=env)
        assert ok.exit_code == 0, ok.output
        failed = runner.invoke(main, ["sync", "hf", "--date", "2026-08-21"], env=env)
        assert failed.exit_code == 1
        status = runner.invoke(main, ["sync", "status"], env=env)
    assert status.exit_code == 0, status.output
    out = status.output
    assert "hf\n" in out and "checkpoint:   2026-08-20" in out and "(2 runs)" in out
    assert "created 0" in out  # the last (failed) run's counts
    assert "last error:" in out and "2026-08-21" in out and "HTTP 503" in out
    assert "next run:" in out and "(running, or it stopped before finishing)" in out
