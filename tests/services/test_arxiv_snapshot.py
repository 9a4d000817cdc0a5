"""``import arxiv-snapshot``: the arXiv metadata snapshot (JSON Lines, plain or .gz), streamed.

The lines below are constructed in the snapshot's documented format (keys and value shapes as
in arXiv's ``arxiv-metadata-oai-snapshot.json``); 0704.0001's values are those of the real first
record of that file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dailypapers.cli import main
from dailypapers.services.imports import import_arxiv_snapshot
from dailypapers.sources.arxiv_snapshot import parse_snapshot_line
from dailypapers.store import Paper

FIRST = {
    "id": "0704.0001", "submitter": "Pavel Nadolsky",
    "authors": "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
    "title": "Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies",
    "comments": "37 pages, 15 figures; published version", "journal-ref": "Phys.Rev.D76:013009,2007",
    "doi": "10.1103/PhysRevD.76.013009", "report-no": "ANL-HEP-PR-07-12", "categories": "hep-ph",
    "license": None,
    "abstract": "  A fully differential calculation in perturbative quantum chromodynamics is\npresented.\n",
    "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
                 {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"}],
    "update_date": "2008-11-13",
    "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""], ["Nadolsky", "P. M.", ""],
                       ["Yuan", "C. -P.", ""]],
}
OLD_STYLE = {
    "id": "hep-th/9901001", "submitter": "Some One", "authors": "A. Author (CERN) and B. Writer",
    "title": "An old-style paper", "comments": None, "journal-ref": None, "doi": None,
    "report-no": None, "categories": "hep-th hep-ph", "license": None,
    "abstract": "  Strings.\n", "versions": [{"version": "v1", "created": "Fri, 1 Jan 1999 10:00:00 GMT"}],
    "update_date": "1999-01-01", "authors_parsed": None,
}
WITHDRAWN = {
    **OLD_STYLE, "id": "1002.3973", "title": "A withdrawn paper", "categories": "math.GM",
    "comments": "This paper has been withdrawn by the author due to an error",
    "versions": [{"version": "v1", "created": "Sat, 20 Feb 2010 10:00:00 GMT"},
                 {"version": "v2", "created": "Mon, 22 Feb 2010 09:30:00 GMT"}],
}


def _write(path: Path, lines: list[str | dict], *, gz: bool = False) -> Path:
    data = "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_a_record_collapses_versions_and_keeps_authors_in_order():
    record = parse_snapshot_line(json.dumps(FIRST))
    assert (record.arxiv_id, record.version) == ("0704.0001", 2)
    assert record.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert record.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert record.published_at == dt.datetime(2007, 4, 2, 19, 18, 42)
    assert record.updated_at == dt.datetime(2007, 7, 24, 20, 10, 27)
    assert record.categories == ["hep-ph"]
    assert record.withdrawn_at is None
    old = parse_snapshot_line(json.dumps(OLD_STYLE))
    assert old.arxiv_id == "hep-th/9901001"
    assert old.authors == ["A. Author", "B. Writer"]  # raw string: affiliation dropped
    assert old.categories == ["hep-th", "hep-ph"]
    gone = parse_snapshot_line(json.dumps(WITHDRAWN))
    assert gone.withdrawn_at == dt.datetime(2010, 2, 22, 9, 30)


def test_import_plain_and_gzip_report_bad_lines_and_import_the_rest(db, tmp_path: Path):
    lines: list[str | dict] = [
        FIRST,
        "{not json",
        {**FIRST, "id": "not an id"},
        {**FIRST, "id": "0704.0002", "versions": []},
        {**FIRST, "id": "0704.0003", "versions": [{"version": "v1", "created": "yesterday"}]},
        "",
        "[1, 2]",
        OLD_STYLE,
        WITHDRAWN,
    ]
    plain = _write(tmp_path / "snap.json", lines)
    result = import_arxiv_snapshot(db=db, paths=[plain])
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (2, "invalid JSON"), (3, "not an arXiv id"), (4, "versions must be a non-empty list"),
        (5, "bad version date 'yesterday'"), (7, "line is not a JSON object")]
    assert all(r.source == str(plain) for r in result.rejected)
    keys = set(db.scalars(select(Paper.key)))
    assert keys == {"0704.0001", "hep-th/9901001", "1002.3973"}
    # the same records gzip-compressed (name without .gz: detected by content) change nothing
    packed = _write(tmp_path / "snap-copy.json", lines, gz=True)
    again = import_arxiv_snapshot(db=db, paths=[packed])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert len(again.rejected) == 5


def test_a_truncated_gzip_keeps_what_came_before_and_says_where_it_broke(db, tmp_path: Path):
    records = [{**FIRST, "id": f"0704.{n:04d}", "title": f"Paper {n}"} for n in range(1, 2001)]
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = import_arxiv_snapshot(db=db, paths=[cut], batch_size=100)
    assert len(result.rejected) == 1
    bad = result.rejected[0]
    assert "unreadable gzip data" in bad.reason
    imported = db.scalar(select(func.count()).select_from(Paper))
    assert 0 < imported < 2000
    assert bad.line == imported + 1  # the first line that could not be read


def test_cli_imports_a_snapshot_with_a_progress_line(tmp_path: Path, make_db_url):
    url = make_db_url()
    path = _write(tmp_path / "snap.json.gz", [FIRST, OLD_STYLE, "{bad"], gz=True)
    result = CliRunner().invoke(main, ["import", "arxiv-snapshot", str(path)],
                                env={"DAILYPAPERS_DATABASE_URL": url})
    assert result.exit_code == 1, result.output
    assert f"{path}:3: invalid JSON" in result.stderr
    assert "2 created, 0 updated, 0 unchanged, 1 rejected" in result.stderr


@pytest.mark.sqlite_only
def test_the_snapshot_import_widens_the_sqlite_page_cache(db, tmp_path: Path):
    from dailypapers.services.imports import SNAPSHOT_CACHE_MIB

    assert db.connection().exec_driver_sql("PRAGMA cache_size").scalar() == -2000
    import_arxiv_snapshot(db=db, paths=[_write(tmp_path / "s.json", [FIRST])])
    assert db.connection().exec_driver_sql("PRAGMA cache_size").scalar() == -SNAPSHOT_CACHE_MIB * 1024


def _catalog(db):
    """Every paper's stored fields and author list, by key (what an import must leave behind)."""
    from dailypapers.store import Author, PaperAuthor

    db.expire_all()  # rows loaded before the import are read again
    papers = {p.key: (p.arxiv_id, p.version, p.title, p.title_key, p.abstract, p.num_authors, p.categories,
                      p.published_at, p.updated_at, p.withdrawn_at, p.github_repo, p.upvotes)
              for p in db.scalars(select(Paper))}
    authors: dict[str, list[str]] = {}
    for key, name in db.execute(select(Paper.key, Author.name).join(PaperAuthor, PaperAuthor.paper_id == Paper.id)
                                .join(Author, Author.id == PaperAuthor.author_id)
                                .order_by(Paper.key, PaperAuthor.position)):
        authors.setdefault(key, []).append(name)
    return papers, authors


@pytest.mark.parametrize("gz", [False, True])
def test_the_reader_process_imports_exactly_what_the_importing_process_would(db, tmp_path: Path, gz: bool):
    from dailypapers.services.snapshot import PARALLEL_MIN_BYTES

    lines: list[str | dict] = [FIRST, "{not json", OLD_STYLE, {**FIRST, "id": "0704.0002", "versions": []},
                               WITHDRAWN, *({**FIRST, "id": f"0705.{n:04d}", "title": f"Paper {n}",
                                             "authors_parsed": [["Writer", f"A{n % 7}.", ""], ["Balázs", "C.", ""]]}
                                            for n in range(1, 251))]
    path = _write(tmp_path / "snap.json", lines, gz=gz)
    assert path.stat().st_size < PARALLEL_MIN_BYTES  # so parallel=True below is what starts the reader
    seen: list[int] = []
    result = import_arxiv_snapshot(db=db, paths=[path], batch_size=40, transaction_size=80, parallel=True,
                                   progress=seen.append)
    assert (result.created, result.updated, result.unchanged) == (253, 0, 0)
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (2, "invalid JSON"), (4, "versions must be a non-empty list")]
    assert sum(seen) == path.stat().st_size and len(seen) > 2  # advanced transaction by transaction
    in_parallel = _catalog(db)
    assert in_parallel[1]["0705.0008"] == ["A1. Writer", "C. Balázs"]
    assert in_parallel[1]["hep-th/9901001"] == ["A. Author", "B. Writer"]
    # the same file read in this process, into an empty catalog, leaves the same catalog
    db.execute(Paper.__table__.delete())
    db.commit()
    inline = import_arxiv_snapshot(db=db, paths=[path], batch_size=40, parallel=False)
    assert (inline.created, inline.rejected) == (253, result.rejected)
    assert _catalog(db) == in_parallel
    again = import_arxiv_snapshot(db=db, paths=[path], batch_size=40, parallel=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 253)
    assert _catalog(db) == in_parallel


def test_a_batch_mixing_new_and_known_papers_upserts_each_once(db, tmp_path: Path):
    from tests.factories import make_paper

    card = make_paper(db, arxiv_id=None, key=None, title="An old-style paper", featured_on=None,
                      authors=["Seed Author"], upvotes=7)
    known = make_paper(db, arxiv_id="0704.0001", title="Calculation of prompt diphoton production",
                       featured_on=None, authors=["Someone Else"])
    twice_v1 = {**FIRST, "id": "0801.0001", "title": "First version", "versions": FIRST["versions"][:1]}
    twice_v2 = {**FIRST, "id": "0801.0001", "title": "Second version"}
    path = _write(tmp_path / "mixed.json", [OLD_STYLE, twice_v2, FIRST, {**FIRST, "id": "0801.0002"}, twice_v1])
    result = import_arxiv_snapshot(db=db, paths=[path], batch_size=10, parallel=True)
    # the seed card took its arXiv id, the known paper was updated, 0801.0001 was written once
    assert (result.created, result.updated, result.unchanged) == (2, 2, 0)
    papers, authors = _catalog(db)
    assert set(papers) == {"hep-th/9901001", "0704.0001", "0801.0001", "0801.0002"}
    assert db.get(Paper, card.id).key == "hep-th/9901001" and db.get(Paper, card.id).upvotes == 7
    assert db.get(Paper, known.id).title == FIRST["title"].replace("\n  ", " ")
    assert papers["0801.0001"][1:3] == (2, "Second version")  # v2 wins whatever the order
    assert authors["0704.0001"] == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert authors["0801.0002"] == authors["0704.0001"]


def test_a_truncated_gzip_read_by_the_reader_process_keeps_what_came_before(db, tmp_path: Path):
    records = [{**FIRST, "id": f"0704.{n:04d}", "title": f"Paper {n}"} for n in range(1, 2001)]
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = import_arxiv_snapshot(db=db, paths=[cut], batch_size=100, parallel=True)
    assert [r.reason.split(":")[0] for r in result.rejected] == ["unreadable gzip data"]
    imported = db.scalar(select(func.count()).select_from(Paper))
    assert 0 < imported < 2000
    assert result.rejected[0].line == imported + 1


def test_a_reader_process_that_fails_fails_the_import(db, tmp_path: Path):
    from dailypapers.services.snapshot import ReaderFailed, chunks_from_reader

    with pytest.raises(ReaderFailed, match="FileNotFoundError"):
        list(chunks_from_reader(tmp_path / "gone.json", dialect="sqlite+pysqlite", batch_size=10))


@pytest.mark.sqlite_only
def test_foreign_keys_are_checked_again_after_the_import_even_a_failed_one(db, tmp_path: Path):
    from sqlalchemy.exc import IntegrityError

    from dailypapers.store import PaperAuthor

    import_arxiv_snapshot(db=db, paths=[_write(tmp_path / "s.json", [FIRST])], parallel=False)
    assert db.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(FileNotFoundError):
        import_arxiv_snapshot(db=db, paths=[tmp_path / "missing.json"], parallel=False)
    assert db.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(IntegrityError):  # still enforced on this connection
        db.execute(PaperAuthor.__table__.insert().values(paper_id=999_999, position=0, author_id=1))
    db.rollback()
