"""``sync hf`` against a real HTTP server replaying Hugging Face's saved responses."""

from __future__ import annotations

import datetime as dt
import html
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dailypapers.services import sync_state
from dailypapers.services.exports import iter_records
from dailypapers.services.imports import import_hf_json, import_seeds
from dailypapers.services.sync_hf import SOURCE, SyncFailed, days_to_sync, sync_hf
from dailypapers.sources.hf_client import HfClient
from dailypapers.sources.jsonl import record_to_json
from dailypapers.store import DailyEntry, Organization, Paper, PaperAuthor
from dailypapers.web.app import create_app
from tests.conftest import HF_API, SEEDS
from tests.sync.hf_upstream import hf_upstream, load_days

DAYS = load_days(HF_API)
DATES = [dt.date.fromisoformat(d) for d in sorted(DAYS)]


def _client(upstream, *, page_size=5, retries=2, waits=None):
    # page_size 5: every saved day of 6-15 papers takes two or three pages.
    return HfClient(endpoint=upstream.base, page_size=page_size, retries=retries,
                    sleep=(waits.append if waits is not None else lambda s: None))


def _by_day(db):
    rows = db.execute(select(DailyEntry.day, Paper.key).join(Paper, Paper.id == DailyEntry.paper_id))
    out: dict[str, set[str]] = {}
    for day, key in rows:
        out.setdefault(day.isoformat(), set()).add(key)
    return out


def _snapshot(db):
    db.expire_all()
    papers = [record_to_json(r) for r in iter_records(db=db)]
    entries = sorted(tuple(str(v) for v in row) for row in db.execute(
        select(DailyEntry.paper_id, DailyEntry.day, DailyEntry.submitted_at, DailyEntry.submitted_by,
               DailyEntry.submitter_fullname, DailyEntry.submitter_avatar_url, DailyEntry.estimated)))
    modified = sorted(str(v) for v in db.scalars(select(Paper.modified_at)))
    extras = sorted(tuple(str(v) for v in row) for row in db.execute(
        select(Paper.key, Paper.ai_summary, Paper.ai_keywords, Paper.github_stars, Paper.media_urls,
               Paper.thumbnail, Paper.imported_upvotes, Paper.imported_comments)))
    return papers, entries, modified, extras


def test_sync_gives_exactly_the_saved_papers_on_their_days_and_a_second_run_changes_nothing(db):
    with hf_upstream(DAYS) as upstream:
        with _client(upstream) as client:
            first = sync_hf(db=db, client=client, days=DATES)
        assert first.rejected == [] and first.days == DATES
        assert first.fetched == sum(len(items) for items in DAYS.values())
        # Paged: 15 papers at 5 a page is 0, 1, 2, then the short page 3.
        assert [p for _, p, _ in upstream.requests_for("2026-08-20")] == [0, 1, 2, 3]
        expected = {day: {item["paper"]["id"] for item in items} for day, items in DAYS.items()}
        assert _by_day(db) == expected
        assert db.scalar(select(func.count()).select_from(Paper)) == sum(map(len, expected.values()))
        before = _snapshot(db)
        with _client(upstream) as client:
            second = sync_hf(db=db, client=client, days=DATES)
        assert (second.imported.created, second.imported.updated) == (0, 0)
        assert second.imported.unchanged == first.imported.created
        assert _snapshot(db) == before
    state = {s.source: s for s in sync_state.statuses(db=db)}[SOURCE]
    assert state.cursor == "2026-08-20" and state.runs == 2 and state.last_error is None
    assert state.counts["unchanged"] == first.imported.created


def _item(day: str, arxiv_id: str):
    return next(i for i in DAYS[day] if i["paper"]["id"] == arxiv_id)


def test_sync_keeps_the_fields_hf_serves_and_the_api_serves_them_back(db, settings, database):
    with hf_upstream(DAYS) as upstream, _client(upstream) as client:
        sync_hf(db=db, client=client, days=DATES)
    # 2026-08-20: AI summary + model, keywords, stars, media, org avatar, linked authors.
    source = next(i for i in DAYS["2026-08-20"] if i["paper"].get("githubStars")
                  and i["paper"].get("organization"))
    paper = db.scalars(select(Paper).where(Paper.key == source["paper"]["id"])).one()
    sp = source["paper"]
    assert paper.ai_summary == sp["ai_summary"] and paper.ai_summary_model == sp["ai_summary_model"]
    assert paper.ai_keywords == sp["ai_keywords"] and paper.github_stars == sp["githubStars"]
    assert paper.media_urls == (sp.get("mediaUrls") or None) and paper.thumbnail == source["thumbnail"]
    entry = db.scalars(select(DailyEntry).where(DailyEntry.paper_id == paper.id)).one()
    assert entry.submitted_by == sp["submittedOnDailyBy"]["user"]
    assert entry.submitter_fullname == sp["submittedOnDailyBy"]["fullname"]
    assert entry.submitter_avatar_url == sp["submittedOnDailyBy"]["avatarUrl"]
    org = db.scalars(select(Organization).where(Organization.handle == sp["organization"]["name"])).one()
    assert org.avatar_url == sp["organization"]["avatar"]
    with_users = next(i["paper"] for i in DAYS["2026-08-20"]
                      if any(a.get("user") for a in i["paper"]["authors"]))
    linked = [a["user"]["user"] for a in with_users["authors"] if a.get("user") and not a.get("hidden")]
    stored = [u for u in db.scalars(select(PaperAuthor.user).join(Paper).where(
        Paper.key == with_users["id"]).order_by(PaperAuthor.position)) if u]
    assert stored == linked and linked
    # 2024-06-03 names the thumbnail mediaUrl.
    old = _item("2024-06-03", "2405.21060")
    assert db.scalar(select(Paper.thumbnail).where(Paper.key == "2405.21060")) == old["mediaUrl"]

    api = TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0}), database))
    served = {i["paper"]["id"]: i for i in api.get("/api/daily_papers?date=2026-08-20").json()}
    got = served[sp["id"]]
    for name in ("ai_summary", "ai_summary_model", "ai_keywords", "githubStars", "upvotes",
                 "githubRepo"):
        assert got["paper"][name] == sp[name], name
    assert got["thumbnail"] == source["thumbnail"]
    assert got["paper"]["organization"]["avatar"] == sp["organization"]["avatar"]
    assert {k: got["paper"]["submittedOnDailyBy"][k] for k in ("user", "fullname", "avatarUrl")} == {
        k: sp["submittedOnDailyBy"][k] for k in ("user", "fullname", "avatarUrl")}
    assert got["submittedBy"]["name"] == source["submittedBy"]["name"]
    page = api.get(f"/papers/{sp['id']}").text  # the paper page shows them too
    assert "AI-generated summary" in page and sp["ai_summary_model"] in page
    assert all(html.escape(k, quote=False) in page for k in sp["ai_keywords"])
    assert f'title="{sp["githubStars"]} GitHub stars"' in page
    assert html.escape(sp["submittedOnDailyBy"]["fullname"], quote=False) in page
    authors = served[with_users["id"]]["paper"]["authors"]
    assert [a["user"]["user"] for a in authors if "user" in a] == linked
    assert got["numComments"] == source["numComments"]


def test_retries_5xx_and_429_then_a_cut_off_body_fails_the_day_without_writing_it(db):
    with hf_upstream(DAYS) as upstream:
        upstream.faults = {"2024-06-03": ["503", "429"], "2024-11-20": ["truncate"] * 3}
        waits: list[float] = []
        with _client(upstream, waits=waits) as client, pytest.raises(SyncFailed) as failed:
            sync_hf(db=db, client=client, days=DATES[:3])
    assert waits == [0.0, 0.0, 1.0, 2.0]  # Retry-After: 0 twice, then backoff for the cut-off body
    assert failed.value.result.days == [dt.date(2024, 6, 3)]
    assert "2024-11-20" in str(failed.value) and "cut off" in str(failed.value)
    assert set(_by_day(db)) == {"2024-06-03"}  # nothing of the failed day, nothing after it
    state = {s.source: s for s in sync_state.statuses(db=db)}[SOURCE]
    assert state.cursor == "2024-06-03" and "2024-11-20" in state.last_error
    assert state.running_or_failed


@pytest.mark.parametrize("fault", ["html", "object"])
def test_an_answer_that_is_not_a_list_of_items_fails_clearly(db, fault):
    with hf_upstream(DAYS) as upstream:
        upstream.faults = {"2024-06-03": [fault]}
        with _client(upstream) as client, pytest.raises(SyncFailed) as failed:
            sync_hf(db=db, client=client, days=DATES[:1])
    assert "not" in str(failed.value) and db.scalar(select(func.count()).select_from(Paper)) == 0


def test_a_malformed_item_is_reported_and_skipped_and_the_rest_kept(db):
    days = json.loads(json.dumps(DAYS))
    days["2025-05-12"].insert(1, {"paper": {"id": "not-an-id"}, "title": "x"})
    with hf_upstream(days) as upstream, _client(upstream) as client:
        result = sync_hf(db=db, client=client, days=[dt.date(2025, 5, 12)])
    assert len(result.rejected) == 1 and "not an arXiv id" in result.rejected[0].reason
    assert _by_day(db) == {"2025-05-12": {i["paper"]["id"] for i in DAYS["2025-05-12"]}}


def test_without_dates_a_run_goes_from_its_checkpoint_to_today_plus_the_refresh_window(db):
    today = dt.date(2026, 8, 21)
    assert days_to_sync(db=db, today=today, refresh_days=3) == [
        dt.date(2026, 8, 19), dt.date(2026, 8, 20), today]
    sync_state.advance(db=db, source=SOURCE, cursor="2026-08-10")
    db.commit()
    days = days_to_sync(db=db, today=today, refresh_days=3)
    assert days[0] == dt.date(2026, 8, 11) and days[-1] == today and len(days) == 11
    sync_state.advance(db=db, source=SOURCE, cursor="2026-08-01")  # never backwards
    assert days_to_sync(db=db, today=today, refresh_days=3)[0] == dt.date(2026, 8, 11)


@pytest.mark.parametrize("order", ["hf_first", "seeds_first"])
def test_a_real_hf_day_wins_over_a_seed_cards_estimated_date(db, order, settings, database):
    """``?date=2024-11-20`` holds HF's 8 papers whatever order the sources arrived in."""
    hf_file = [p for p in HF_API if "2024-11-20" in p.name]
    steps = [lambda: import_hf_json(db=db, paths=hf_file), lambda: import_seeds(db=db, paths=SEEDS, year=2025)]
    for step in steps if order == "hf_first" else steps[::-1]:
        step()
    entries = db.scalars(select(DailyEntry).where(DailyEntry.day == dt.date(2024, 11, 20))).all()
    assert sorted(e.paper.key for e in entries) == sorted(i["paper"]["id"] for i in DAYS["2024-11-20"])
    assert not any(e.estimated for e in entries)
    # Seed cards no HF day claimed stay featured on their own (estimated) date.
    estimated = db.scalars(select(DailyEntry).where(DailyEntry.estimated)).all()
    assert estimated and all(e.day == e.paper.published_at.date() for e in estimated)
    app = create_app(settings.model_copy(update={"page_cache_seconds": 0}), database)
    page = TestClient(app).get(f"/papers/{estimated[0].paper.key}").text
    assert "(estimated)" in page
    assert db.scalar(select(func.count()).select_from(DailyEntry).where(
        DailyEntry.day == dt.date(2025, 11, 20))) < 10  # no longer every card of a page's header day


def test_export_and_import_jsonl_carry_the_kept_fields(db, tmp_path, make_db_url):
    from dailypapers.services.imports import import_jsonl
    from dailypapers.store.db import Database

    with hf_upstream(DAYS) as upstream, _client(upstream) as client:
        sync_hf(db=db, client=client, days=DATES)
    exported = b"\n".join(record_to_json(r) for r in iter_records(db=db)) + b"\n"
    assert b'"ai_summary_model"' in exported and b'"author_users"' in exported and b'"avatar"' in exported
    path = tmp_path / "export.jsonl"
    path.write_bytes(exported)
    other = Database(make_db_url(migrated=True))
    with other.session() as copy:
        assert not import_jsonl(db=copy, paths=[path]).rejected
        assert b"\n".join(record_to_json(r) for r in iter_records(db=copy)) + b"\n" == exported
        assert _snapshot(copy)[3] == _snapshot(db)[3]
    other.dispose()


def test_a_resync_refreshes_upvotes_and_comment_counts_and_keeps_local_votes(db):
    from dailypapers.services.votes import upvote
    from tests.factories import make_user

    day = "2026-08-20"
    with hf_upstream(json.loads(json.dumps(DAYS))) as upstream:
        with _client(upstream) as client:
            sync_hf(db=db, client=client, days=[dt.date(2026, 8, 20)])
        first = upstream.days[day][0]
        paper = db.scalars(select(Paper).where(Paper.key == first["paper"]["id"])).one()
        upvote(db=db, user_id=make_user(db).id, paper_key=paper.key)
        db.commit()
        first["paper"]["upvotes"] += 40
        first["numComments"] += 3
        with _client(upstream) as client:
            again = sync_hf(db=db, client=client, days=[dt.date(2026, 8, 20)])
    assert again.imported.updated == 1
    db.expire_all()
    assert paper.imported_upvotes == first["paper"]["upvotes"]
    assert paper.upvotes == first["paper"]["upvotes"] + 1  # the local vote stays on top
    assert paper.num_comments == first["numComments"]


def test_an_upstream_that_does_not_answer_in_time_fails_the_day(db):
    with hf_upstream(DAYS) as upstream:
        upstream.faults = {"2024-06-03": ["hold"]}
        client = HfClient(endpoint=upstream.base, timeout=0.5, retries=0)
        with client, pytest.raises(SyncFailed, match="no answer in time"):
            sync_hf(db=db, client=client, days=DATES[:1])
    assert db.scalar(select(func.count()).select_from(Paper)) == 0


def test_a_curator_featuring_a_seed_paper_makes_its_day_real(db):
    from dailypapers.services.curation import feature
    from dailypapers.store import Role
    from tests.factories import make_user

    import_seeds(db=db, paths=SEEDS, year=2025)
    entry = db.scalars(select(DailyEntry).where(DailyEntry.estimated)).first()
    curator = make_user(db, role=Role.CURATOR)
    feature(db=db, user=curator, paper_key=entry.paper.key, day=dt.date(2025, 12, 24))
    db.commit()  # the curation route's transaction (services commit nothing)
    db.expire_all()
    assert (entry.day, entry.estimated) == (dt.date(2025, 12, 24), False)
    import_seeds(db=db, paths=SEEDS, year=2025)  # a seed re-import no longer moves it
    db.expire_all()
    assert (entry.day, entry.estimated) == (dt.date(2025, 12, 24), False)
