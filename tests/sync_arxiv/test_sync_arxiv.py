"""``sync arxiv`` against recorded-format OAI-PMH pages served by a real local HTTP server:
paging, a 503 with Retry-After, a timeout, a truncated body, giving up and resuming, expired
tokens, auto-featuring, and a real ``dailypapers sync arxiv`` process SIGKILLed mid-run."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from dailypapers.services import sync_state
from dailypapers.services.exports import iter_records
from dailypapers.services.sync_arxiv import Checkpoint, SyncFailed, sync_arxiv
from dailypapers.sources.arxiv_oai_client import OaiClient
from dailypapers.sources.jsonl import record_to_json
from dailypapers.store import DailyEntry, Paper, PaperAuthor
from dailypapers.store.db import Database
from tests.factories import make_paper
from tests.server import settings_env
from tests.sources.arxiv_oai_server import oai_server

FROM = dt.date(2026, 11, 20)
TODAY = dt.date(2026, 11, 23)
EXPECTED = {"2611.10001", "2401.01335", "2611.10003", "2611.10006", "2611.10007", "cs/0112017"}


def _client(url: str, retries: int = 5) -> OaiClient:
    return OaiClient(base_url=url, timeout=0.5, min_interval=0, retries=retries, sleep=lambda s: None)


def _sync(db, url, *, date_from=FROM, retries=5, auto=()):
    with _client(url, retries) as client:
        return sync_arxiv(db=db, client=client, categories=["cs.LG", "cs.CL"], date_from=date_from,
                          today=TODAY, initial_days=3, auto_feature=auto)


def _catalog(db) -> list[bytes]:
    db.expire_all()
    return sorted(record_to_json(r) for r in iter_records(db=db))


def test_a_faulty_harvest_ends_complete_and_correct_and_a_rerun_changes_nothing(db):
    with oai_server() as server:
        server.faults = {"first": ["503"], "6173412|1001": ["timeout"],
                         "6173412|2001": ["truncated", "cut"]}
        result = _sync(db, server.url)
        assert server.pages_served() == ["first", "first", "6173412|1001", "6173412|1001",
                                         "6173412|2001", "6173412|2001", "6173412|2001"]
        assert (result.pages, result.fetched, result.kept, result.created) == (3, 9, 6, 6)
        assert result.deleted == 1 and [r.reason for r in result.rejected] == ["paper 2611.10005 has no title"]
        assert set(db.scalars(select(Paper.key))) == EXPECTED  # cs.CV-only 2611.10002 left out
        spin = db.scalars(select(Paper).where(Paper.key == "2401.01335")).one()
        assert (spin.version, spin.published_at, spin.updated_at) == (
            2, dt.datetime(2024, 1, 2, 18, 53, 13), dt.datetime(2026, 11, 21, 9, 12, 44))
        assert spin.github_repo == "https://github.com/uclaml/SPIN"
        old = db.scalars(select(Paper).where(Paper.key == "cs/0112017")).one()
        assert old.withdrawn_at == dt.datetime(2026, 11, 22, 8, 0)
        assert db.scalar(select(func.count()).select_from(DailyEntry)) == 0  # catalog, not featured
        cursor = Checkpoint.decode(sync_state.get_cursor(db=db, source="arxiv:cs"))
        assert cursor == Checkpoint(next_from=dt.date(2026, 11, 23))
        before = _catalog(db)
        # The next run goes on from the checkpoint (the day the last harvest began).
        server.requests.clear()
        again = _sync(db, server.url, date_from=None)
        assert server.requests[0]["from"] == "2026-11-23"
        assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
        assert _catalog(db) == before


def test_giving_up_keeps_the_pages_stored_and_a_rerun_resumes_at_the_next_one(db):
    with oai_server() as server:
        server.faults = {"6173412|1001": ["503"] * 3}
        with pytest.raises(SyncFailed, match="gave up after 3 attempts"):
            _sync(db, server.url, retries=2)
        assert set(db.scalars(select(Paper.key))) == {"2611.10001", "2401.01335"}
        [status] = [s for s in sync_state.statuses(db=db) if s.source == "arxiv:cs"]
        assert "HTTP 503" in (status.last_error or "") and status.running_or_failed
        assert Checkpoint.decode(status.cursor).token == "6173412|1001"
        server.requests.clear()
        _sync(db, server.url)
        assert server.pages_served() == ["6173412|1001", "6173412|2001"]
        assert set(db.scalars(select(Paper.key))) == EXPECTED


def test_an_expired_token_restarts_the_harvest_from_its_start(db):
    sync_state.advance(db=db, source="arxiv:cs", newest=False,
                       cursor=Checkpoint(harvest_from=FROM, started=TODAY, token="expired|77").encode())
    db.commit()
    with oai_server() as server:
        _sync(db, server.url, date_from=None)
        assert server.pages_served() == ["expired|77", "first", "6173412|1001", "6173412|2001"]
        assert server.requests[1]["from"] == "2026-11-20"
    assert set(db.scalars(select(Paper.key))) == EXPECTED


def test_auto_feature_features_new_papers_of_chosen_categories_on_their_arxiv_day(db):
    # Already featured by HF on another day: keeps its day.
    make_paper(db, arxiv_id="2611.10007", title="A Vision Check-up for Language Models",
               featured_on=dt.date(2026, 11, 25))
    with oai_server() as server:
        result = _sync(db, server.url, auto=("cs.LG",))
    days = dict(db.execute(
        select(Paper.key, DailyEntry.day).join(DailyEntry, DailyEntry.paper_id == Paper.id)).all())
    # 2611.10003 (cs.LG primary, v1 2026-11-21) is featured; 2401.01335 is cs.LG but not new;
    # 2611.10001/10006 are cs.CL; cs/0112017 is an old paper with a new version.
    assert days == {"2611.10003": dt.date(2026, 11, 21), "2611.10007": dt.date(2026, 11, 25)}
    assert result.featured == 1


def _run(settings, url) -> subprocess.Popen[bytes]:
    env = settings_env(settings.model_copy(update={"arxiv_oai_url": url, "arxiv_min_interval": 0,
                                                   "arxiv_timeout": 5}))
    return subprocess.Popen([sys.executable, "-m", "dailypapers", "sync", "arxiv", "--category", "cs.LG",
                             "--category", "cs.CL", "--from", FROM.isoformat()],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("kill_at", ["6173412|1001", "6173412|2001"])
def test_killed_while_the_server_holds_a_page_then_rerun_neither_misses_nor_doubles(
        settings, database, make_db_url, kill_at):
    with oai_server() as server:
        # A clean run into another database: the catalog the interrupted one must end with.
        clean_db = Database(make_db_url(migrated=True))
        clean = _run(settings.model_copy(update={"database_url": clean_db.url}), server.url)
        assert clean.wait(60) == 1  # 1: the malformed record was reported
        with clean_db.session() as session:
            expected = _catalog(session)
        clean_db.dispose()
        server.requests.clear()
        server.hold = kill_at
        proc = _run(settings, server.url)
        assert server.held.wait(60), proc.stderr.read() if proc.poll() is not None else "no request"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        server.hold = None
        server.release.set()
        stored = server.pages_served()[:-1]  # pages answered before the held one
        with database.session() as session:
            cursor = Checkpoint.decode(sync_state.get_cursor(db=session, source="arxiv:cs"))
            assert cursor.token == kill_at and cursor.harvest_from == FROM
        server.requests.clear()
        rerun = _run(settings, server.url)
        _, err = rerun.communicate(timeout=60)
        # Exit 1 only if the rerun itself read the malformed record (on page 2).
        assert rerun.returncode == (1 if kill_at == "6173412|1001" else 0), err.decode()
        assert server.pages_served()[0] == kill_at  # resumed at the held page, not from the start
        assert "first" not in server.pages_served() and stored[0] == "first"
    with database.session() as session:
        assert _catalog(session) == expected
        keys = list(session.scalars(select(Paper.key)))
        assert sorted(keys) == sorted(EXPECTED)  # every paper once
        per_paper = session.execute(select(PaperAuthor.paper_id, PaperAuthor.position, func.count())
                                    .group_by(PaperAuthor.paper_id, PaperAuthor.position)
                                    .having(func.count() > 1)).all()
        assert per_paper == []


def test_the_schedule_runs_the_arxiv_source_from_its_settings(db, settings):
    from dailypapers.services.sync_schedule import SOURCES
    from dailypapers.store.base import utcnow

    with oai_server() as server:
        configured = settings.model_copy(update={
            "arxiv_oai_url": server.url, "arxiv_min_interval": 0, "arxiv_timeout": 5,
            "sync_arxiv_categories": "cs.LG, cs.CL", "sync_arxiv_initial_days": 3})
        summary = SOURCES["arxiv"](db, configured)
        assert server.requests[0]["from"] == (utcnow().date() - dt.timedelta(days=3)).isoformat()
    assert "6 created" in summary
    assert set(db.scalars(select(Paper.key))) == EXPECTED
    with pytest.raises(ValueError, match="DAILYPAPERS_SYNC_ARXIV_CATEGORIES"):
        SOURCES["arxiv"](db, settings)
