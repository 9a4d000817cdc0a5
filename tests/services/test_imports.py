import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dailypapers.services.catalog_import import import_records
from dailypapers.services.exports import iter_records
from dailypapers.services.imports import import_arxiv, import_hf_json, import_jsonl, import_seeds
from dailypapers.sources.jsonl import record_to_json
from dailypapers.store import DailyEntry, Organization, Paper
from tests.conftest import FIXTURES, HF_API, HF_JSONL, SEEDS
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
    # Featured (estimated) on the card's own date, not on the day the page was viewed.
    assert (entry.day, entry.estimated) == (dt.date(2025, 5, 8), True)
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


# --- arXiv API responses (tests/fixtures/arxiv, see its README) --------------------------------

ARXIV = FIXTURES / "arxiv"


def test_arxiv_import_collapses_versions_keeping_latest_and_first_version_date(db):
    result = import_arxiv(db=db, paths=[ARXIV / "search_quantum_criticality.xml"])
    assert (result.created, result.rejected) == (2, [])
    paper = db.scalars(select(Paper).where(Paper.arxiv_id == "1111.2011")).one()
    assert (paper.key, paper.version) == ("1111.2011", 2)
    assert paper.published_at == dt.datetime(2011, 11, 8, 18, 48, 36)
    assert paper.updated_at == dt.datetime(2012, 4, 2, 12, 38, 54)
    assert paper.author_names == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    # The same paper again, from a response that asked for it by versioned id: nothing changes.
    again = import_arxiv(db=db, paths=[ARXIV / "id_list_1111.2011v2.xml",
                                       ARXIV / "search_quantum_criticality.xml"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert _count(db, Paper) == 2


def test_an_earlier_version_imported_later_does_not_win(db):
    import_arxiv(db=db, paths=[ARXIV / "search_quantum_criticality.xml"])
    v1 = make_record(arxiv_id="1111.2011", version=1, title="Quantum criticality (first draft)",
                     abstract="Draft.", authors=["J. Murray"], featured_on=None, upvotes=None,
                     published_at=dt.datetime(2011, 11, 8, 18, 48, 36))
    result = import_records(db=db, records=[v1])
    assert result.unchanged == 1
    db.expire_all()
    paper = db.scalars(select(Paper).where(Paper.arxiv_id == "1111.2011")).one()
    assert paper.version == 2 and paper.title.startswith("Quantum Criticality for Extended Nodes")
    assert paper.author_names[0] == "James M. Murray"
    # Within one batch the order of versions does not matter either.
    v3 = make_record(arxiv_id="2301.00001", version=3, title="Final", featured_on=None)
    v2 = make_record(arxiv_id="2301.00001v2", title="Older", featured_on=None)
    import_records(db=db, records=[v3, v2])
    assert db.scalars(select(Paper.title).where(Paper.arxiv_id == "2301.00001")).one() == "Final"


def test_arxiv_record_merges_with_the_hf_record_of_the_same_paper(db, tmp_path: Path):
    hf = tmp_path / "hf.jsonl"
    hf.write_text(json.dumps({"arxiv_id": "1605.08386", "title": "Heat-bath random walks with Markov bases",
                              "upvotes": 7, "featured_on": "2016-05-27"}) + "\n")
    import_jsonl(db=db, paths=[hf])
    import_arxiv(db=db, paths=[ARXIV / "id_list_1605.08386.xml"])
    paper = db.scalars(select(Paper).where(Paper.arxiv_id == "1605.08386")).one()
    assert (paper.upvotes, paper.version, paper.author_names) == (7, 1, ["Caprice Stanley", "Tobias Windisch"])
    assert _count(db, Paper) == 1


def test_arxiv_malformed_entries_and_error_entries_are_reported_the_rest_imported(db):
    result = import_arxiv(db=db, paths=[ARXIV / "constructed_malformed.xml", ARXIV / "id_list_abc.xml",
                                        ARXIV / "id_list_0000.0000.xml"])
    assert result.created == 1
    assert [(Path(r.source).name, r.line) for r in result.rejected] == [
        ("constructed_malformed.xml", 10), ("constructed_malformed.xml", 48),
        ("constructed_malformed.xml", 67), ("id_list_abc.xml", 9)]
    assert "incorrect id format for abc" in result.rejected[-1].reason
    assert db.scalars(select(Paper.arxiv_id)).all() == ["1605.08386"]


def test_arxiv_withdrawn_paper_is_stored_withdrawn(db):
    import_arxiv(db=db, paths=[ARXIV / "constructed_withdrawn.xml"])
    rows = dict(db.execute(select(Paper.arxiv_id, Paper.withdrawn_at)).all())
    assert rows == {"2601.07131": dt.datetime(2026, 1, 20, 9, 0), "1002.3973": dt.datetime(2010, 3, 1, 12, 0)}


def test_unusable_arxiv_files_are_rejected_whole_and_others_import(db, tmp_path: Path):
    rss = tmp_path / "feed.xml"
    rss.write_bytes(b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>\n')
    cut = tmp_path / "cut.xml"
    cut.write_bytes((ARXIV / "id_list_1605.08386.xml").read_bytes()[:1500])  # ends on line 16
    result = import_arxiv(db=db, paths=[rss, cut, ARXIV / "id_list_astro-ph_0601001.xml"])
    assert result.created == 1
    assert [(r.source, r.line) for r in result.rejected] == [(str(rss), 1), (str(cut), 16)]
    assert "not an Atom feed" in result.rejected[0].reason
    assert "not well-formed XML" in result.rejected[1].reason


# --- robustness of the other importers ---------------------------------------------------------


def test_jsonl_bad_utf8_huge_and_non_object_lines_are_rejected_by_line(db, tmp_path: Path):
    from dailypapers.services.imports import MAX_LINE_BYTES

    good = json.dumps({"arxiv_id": "2401.00001", "title": "Good"}).encode()
    huge = json.dumps({"arxiv_id": "2401.00002", "title": "Huge", "abstract": "x" * MAX_LINE_BYTES}).encode()
    lines = [good, b'{"arxiv_id": "2401.00003", "title": "Bad \xff byte"}', huge, b"[1, 2]", b'"a string"',
             b"null", json.dumps({"arxiv_id": "2401.00004", "title": "Also good"}).encode()]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = import_jsonl(db=db, paths=[path])
    assert result.created == 2
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (2, "invalid JSON"), (3, f"line longer than {MAX_LINE_BYTES} bytes"), (4, "line is not a JSON object"),
        (5, "line is not a JSON object"), (6, "line is not a JSON object")]
    assert sorted(db.scalars(select(Paper.title))) == ["Also good", "Good"]


def test_html_in_titles_is_stored_verbatim_and_escaped_on_the_page(db, database, settings, tmp_path: Path):
    from fastapi.testclient import TestClient

    from dailypapers.web.app import create_app

    title = '<script>alert("x")</script> & <b>bold</b> claims'
    path = tmp_path / "xss.jsonl"
    path.write_text(json.dumps({"arxiv_id": "2401.00005", "title": title, "abstract": "<img src=x onerror=1>",
                                "featured_on": "2024-01-02"}) + "\n")
    import_jsonl(db=db, paths=[path])
    assert db.scalars(select(Paper.title)).one() == title
    with TestClient(create_app(settings, database)) as client:
        html = client.get("/papers/date/2024-01-02").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; claims" in html


@pytest.mark.parametrize(("content", "line", "reason"), [
    (b'{"paper": {"id": "2401.00001", "title": "T"}}', 1, "expected a JSON list of daily-paper items, got a dict"),
    (b'"just a string"', 1, "expected a JSON list of daily-paper items, got a str"),
    (b'[\n  {"paper": {"id": "2401.00001", "title": "T"}},\n  {"paper": ', 3, "not valid JSON"),
    (b'[\n {"paper": {"id": "2401.00001", "title": "T\xff"}}\n]', 2, "not valid UTF-8 (byte 0xff)"),
    (b"", 1, "not valid JSON"),
])
def test_hf_json_files_that_are_not_lists_are_rejected_whole(db, tmp_path: Path, content, line, reason):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = import_hf_json(db=db, paths=[bad, HF_API[0]])
    assert result.created == len(json.loads(HF_API[0].read_text()))
    [rejected] = result.rejected
    assert (rejected.source, rejected.line) == (str(bad), line)
    assert rejected.reason.startswith(reason)


def test_hf_json_bad_items_are_reported_by_their_line(db, tmp_path: Path):
    items = json.loads(HF_API[0].read_text())[:2]
    text = ("[\n" + json.dumps(items[0]) + ",\n  42,\n" + json.dumps({"paper": {}}) + ",\n"
            + json.dumps(items[1]) + "\n]")
    path = tmp_path / "items.json"
    path.write_text(text)
    result = import_hf_json(db=db, paths=[path])
    assert result.created == 2
    assert [(r.line, r.reason) for r in result.rejected] == [
        (3, "item 2: item is not an object"), (4, "item 3: item has no paper.id")]


def test_seed_page_with_invalid_utf8_is_rejected_and_other_pages_import(db, tmp_path: Path):
    broken = tmp_path / "broken.txt"
    broken.write_bytes(SEEDS[0].read_bytes().replace(b"\n\n", b"\n\n\xfe", 1))
    result = import_seeds(db=db, paths=[broken, SEEDS[1]], year=2025)
    [rejected] = result.rejected
    assert rejected.source == str(broken) and rejected.reason == "not valid UTF-8 (byte 0xfe)"
    assert rejected.line == SEEDS[0].read_bytes().split(b"\n\n", 1)[0].count(b"\n") + 3
    assert result.created > 0 and _count(db, Paper) == result.created
