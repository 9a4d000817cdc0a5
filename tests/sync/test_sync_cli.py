"""``dailypapers sync hf`` as a real process: killed mid-run and rerun, and mirroring a real
``dailypapers serve`` instance."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import httpx
from fastapi.testclient import TestClient

from dailypapers.services import sync_state
from dailypapers.services.imports import import_jsonl
from dailypapers.settings import Settings
from dailypapers.store.db import Database
from dailypapers.web.app import create_app
from tests.conftest import HF_API, HF_JSONL, MODEL_CACHE
from tests.server import running_server, settings_env
from tests.sync.hf_upstream import hf_upstream, load_days
from tests.sync.test_sync_hf import _snapshot

SAVED = load_days(HF_API)
# The five saved responses, listed on five consecutive days (each item keeps its own featured
# day), so a run of a short range reads them all.
RANGE = [dt.date(2026, 9, 1) + dt.timedelta(days=n) for n in range(len(SAVED))]
DAYS = {day.isoformat(): SAVED[name] for day, name in zip(RANGE, sorted(SAVED), strict=True)}


def _settings(db_url: str, tmp_path, name: str) -> Settings:
    return Settings(database_url=db_url, environment="test", data_dir=tmp_path / name,
                    load_sample=False, search_model_cache_dir=MODEL_CACHE)


def _sync(settings: Settings, endpoint: str, *args: str) -> subprocess.Popen[bytes]:
    env = settings_env(settings)
    env.update(DAILYPAPERS_HF_ENDPOINT=endpoint, DAILYPAPERS_HF_RETRIES="0")
    return subprocess.Popen([sys.executable, "-m", "dailypapers", "sync", "hf", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err.decode()


def _state(database: Database):
    with database.session() as db:
        return {s.source: s for s in sync_state.statuses(db=db)}["hf"]


def test_a_sync_killed_mid_run_then_rerun_ends_as_one_clean_run(tmp_path, make_db_url):
    span = ["--from", RANGE[0].isoformat(), "--to", RANGE[-1].isoformat()]
    killed_url, clean_url = make_db_url(migrated=True), make_db_url(migrated=True)
    killed, clean = _settings(killed_url, tmp_path, "a"), _settings(clean_url, tmp_path, "b")
    with hf_upstream(DAYS) as upstream:
        # The fourth day's request is held until this test has killed the process.
        upstream.faults = {RANGE[3].isoformat(): ["hold"]}
        proc = _sync(killed, upstream.base, *span)
        assert upstream.held.wait(120), _finish(proc)
        database = Database(killed_url)
        assert _state(database).cursor == RANGE[2].isoformat()  # three days committed
        # Meanwhile the site serves what is committed.
        site = TestClient(create_app(killed.model_copy(update={"page_cache_seconds": 0}), database))
        answer = site.get("/api/daily_papers", params={"date": "2025-05-12"})
        assert answer.status_code == 200 and len(answer.json()) == len(SAVED["2025-05-12"])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        upstream.release.set()
        assert proc.returncode == -signal.SIGKILL
        rerun = _sync(killed, upstream.base, *span)
        assert _finish(rerun)[0] == 0
        assert _finish(_sync(clean, upstream.base, *span))[0] == 0
    with database.session() as a, Database(clean_url).session() as b:
        assert _snapshot(a)[0] == _snapshot(b)[0]  # the same papers, entries and counts
        assert _snapshot(a)[1] == _snapshot(b)[1]
        assert _snapshot(a)[3] == _snapshot(b)[3]
    assert _state(database).cursor == RANGE[-1].isoformat() and _state(database).last_error is None
    database.dispose()


def test_upstream_down_exits_non_zero_with_a_clear_line_and_writes_nothing(tmp_path, make_db_url):
    settings = _settings(make_db_url(migrated=True), tmp_path, "a")
    with hf_upstream(DAYS) as upstream:
        upstream.faults = {RANGE[0].isoformat(): ["503"]}
        code, err = _finish(_sync(settings, upstream.base, "--date", RANGE[0].isoformat()))
    assert code == 1
    assert f"failed at {RANGE[0]}" in err and "HTTP 503" in err and "Traceback" not in err
    assert _state(Database(settings.database_url)).last_error


def test_an_instance_mirrors_another_exactly(tmp_path, make_db_url):
    """A (loaded with the HF dataset, a real server) is the upstream of the empty B."""
    a = _settings(make_db_url(migrated=True), tmp_path, "a")
    b = _settings(make_db_url(migrated=True), tmp_path, "b")
    source = Database(a.database_url)
    with source.session() as db:
        assert not import_jsonl(db=db, paths=[HF_JSONL]).rejected
    source.dispose()
    days = [dt.date(2026, 8, 1) + dt.timedelta(days=n) for n in range(21)]
    with running_server(a, timeout=180) as a_url:
        code, err = _finish(_sync(b, a_url, "--from", "2026-08-01", "--to", "2026-08-21"))
        assert code == 0, err
        with running_server(b, timeout=180) as b_url:
            listed = 0
            for day in days:
                want = httpx.get(f"{a_url}/api/daily_papers", params={"date": day.isoformat(), "limit": 100})
                got = httpx.get(f"{b_url}/api/daily_papers", params={"date": day.isoformat(), "limit": 100})
                assert want.status_code == got.status_code == 200
                assert got.json() == want.json(), day
                listed += len(want.json())
    assert listed > 200  # the range holds real days, not empty answers
