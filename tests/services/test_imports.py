import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dailypapers.services.catalog import import_records
from dailypapers.services.exports import iter_records
from dailypapers.services.imports import import_hf_json, import_jsonl, import_seeds
from dailypapers.sources.jsonl import record_to_json
from dailypapers.store import DailyEntry, Organization, Paper
from tests.conftest import HF_API, HF_JSONL, SEEDS
from tests.factories import make_record


def _paper(db, title_prefix):
    return db.scalars(select(Paper).where(Paper.title.startswith(title_prefix))).one()


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_seeds_import_183_papers_with_spot_checks(db):
    result = import_seeds(db=db, paths=SEEDS, year=2025)
    assert result.rejected == []
    assert _count(db, Paper) == 183
    gated = _paper(db, "Gated Attention for Large Language Models")
    assert gated.author_count == 13
    assert gated.published_at == dt.datetime(2025, 5, 10)
    ctm = _paper(db, "Continuous Thought Machines")
    entry = db.scalars(select(DailyEntry).where(DailyEntry.paper_id == ctm.id)).one()
    assert (entry.organization.handle, entry.organization.name) == ("SakanaAI", "Sakana AI")
    assert entry.day == dt.date(2025, 12, 10)
    assert _paper(db, "The Entropy Mechanism of Reinforcement Learning").upvotes == 4
    dale = _paper(db, "Dale meets Langevin")
    assert dale.abstract.startswith("Gradient descent")
    assert "Adaptive Computation Modules" not in dale.abstract
    assert dale.key.startswith("seed-")


def test_seed_card_merges_with_arxiv_record_of_same_title(db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    seed = _paper(db, "Continuous Thought Machines")
    record = make_record(arxiv_id="2505.05522", title="Continuous Thought Machines",
                         authors=["Luke Darlow", "Ciaran Regan"], featured_on=None, upvotes=None)
    import_records(db=db, records=[record])
    db.expire_all()
    merged = _paper(db, "Continuous Thought Machines")
    assert merged.id == seed.id
    assert merged.key == merged.arxiv_id == "2505.05522"
    assert merged.author_names == ["Luke Darlow", "Ciaran Regan"]
    assert merged.upvotes == seed.upvotes  # the arXiv record says nothing about upvotes
    assert _count(db, Paper) == 183


def _snapshot(db):
    db.expire_all()
    return [record_to_json(r) for r in iter_records(db=db)], list(
        db.execute(select(Paper.id, Paper.modified_at).order_by(Paper.id)))


def test_hf_jsonl_imports_11027_papers_2989_with_org_and_reimport_changes_nothing(db):
    result = import_jsonl(db=db, paths=[HF_JSONL])
    assert result.rejected == [] and result.created == 11027
    assert _count(db, Paper) == 11027
    assert db.scalar(select(func.count()).select_from(DailyEntry)
                     .where(DailyEntry.organization_id.is_not(None))) == 2989
    before = _snapshot(db)
    again = import_jsonl(db=db, paths=[HF_JSONL])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 11027)
    assert _snapshot(db) == before


def test_newer_upvotes_and_metadata_win_and_local_votes_are_kept(db):
    import_records(db=db, records=[make_record(arxiv_id="2501.99999", title="T", upvotes=5)])
    paper = _paper(db, "T")
    paper.upvotes += 2  # two local votes on top of the imported five
    db.commit()
    result = import_records(db=db, records=[make_record(arxiv_id="2501.99999", version=2, title="T (revised)",
                                                        upvotes=9)])
    assert result.updated == 1
    db.expire_all()
    paper = db.get(Paper, paper.id)
    assert (paper.title, paper.version, paper.imported_upvotes, paper.upvotes) == ("T (revised)", 2, 9, 11)


def test_broken_jsonl_lines_are_reported_and_the_rest_imported(db, tmp_path: Path):
    good = [json.dumps({"arxiv_id": f"2401.0000{i}", "title": f"Paper {i}", "abstract": "x",
                        "authors": ["A"], "featured_on": "2024-01-02"}) for i in range(3)]
    lines = [good[0], "{not json", good[1], json.dumps({"arxiv_id": "nope", "title": "Bad id"}),
             json.dumps({"arxiv_id": "2401.00009"}), json.dumps({"title": "T", "upvotes": -3}), good[2]]
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = import_jsonl(db=db, paths=[path])
    assert result.created == 3
    assert [r.line for r in result.rejected] == [2, 4, 5, 6]
    assert all(r.source == str(path) and r.reason for r in result.rejected)
    assert "not an arXiv id" in result.rejected[1].reason
    assert "missing title" in result.rejected[2].reason
    assert _count(db, Paper) == 3


def test_hf_api_responses_of_every_shape_import(db):
    result = import_hf_json(db=db, paths=HF_API)
    assert result.rejected == []
    n_items = sum(len(json.loads(p.read_text())) for p in HF_API)
    assert result.created == n_items
    paper = db.scalars(select(Paper).where(Paper.arxiv_id == "2405.21060")).one()
    assert paper.author_names[:2] == ["Tri Dao", "Albert Gu"]
    assert "\n" not in paper.title and paper.published_at == dt.datetime(2024, 5, 31, 17, 50, 1)
    orgs = _count(db, Organization)
    assert orgs >= 1


def test_failed_batch_leaves_nothing_half_written(db, monkeypatch):
    from dailypapers.services import catalog

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(catalog, "_sync_entries", boom)
    with pytest.raises(RuntimeError):
        import_records(db=db, records=[make_record()])
    assert _count(db, Paper) == 0
