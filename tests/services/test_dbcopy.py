"""``copy_database``: every model table from one database into another, ids kept, counts verified.

The source is a real SQLite file; the target is a database of the backend under test (so the
PostgreSQL run copies SQLite → PostgreSQL, and the reverse test copies PostgreSQL → SQLite).
"""

import random
import struct
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dailypapers.services.dbcopy import CopyError, copy_database, data_tables
from dailypapers.services.comments import add_comment
from dailypapers.services.imports import import_jsonl
from dailypapers.services.subscriptions import subscribe
from dailypapers.services.votes import upvote
from dailypapers.store import Embedding, Paper
from dailypapers.store.db import Database
from tests.conftest import BACKEND, HF_JSONL
from tests.factories import make_paper, make_user


def _fill_community(db, papers: list[Paper], *, users: int = 6) -> None:
    """Votes, threaded comments, subscriptions and embeddings on top of the papers."""
    rng = random.Random(11)
    members = [make_user(db) for _ in range(users)]
    for member in members:
        for paper in rng.sample(papers, 5):
            upvote(db=db, user_id=member.id, paper_key=paper.key)
    first = add_comment(db=db, user_id=members[0].id, paper_key=papers[0].key, body="A *first* look")
    add_comment(db=db, user_id=members[1].id, paper_key=papers[0].key, body="A reply",
                parent_id=first.id)
    for n in range(12):
        subscribe(db=db, email=f"reader{n}@example.org", email_verified=n % 2 == 0,
                  user_id=members[n].id if n < len(members) else None)
    for paper in papers[:40]:
        values = [rng.uniform(-1, 1) for _ in range(8)]
        db.add(Embedding(paper_id=paper.id, model="test-model", content_hash=f"h{paper.id}", dim=8,
                         vector=struct.pack("<8f", *values)))
    db.commit()


def _rows(db, table, keys) -> dict:
    pk = list(table.primary_key.columns)
    rows = db.execute(select(table).where(pk[0].in_(keys))).mappings().all()
    return {tuple(row[c.name] for c in pk): dict(row) for row in rows}


def _assert_same_sample(source, target, *, per_table: int = 60) -> int:
    """A seeded sample of each table's rows, compared column by column; returns rows compared."""
    rng = random.Random(5)
    compared = 0
    for table in data_tables():
        first_pk = next(iter(table.primary_key.columns))
        keys = source.execute(select(first_pk).distinct()).scalars().all()
        sample = rng.sample(keys, min(per_table, len(keys)))
        want = _rows(source, table, sample)
        assert _rows(target, table, sample) == want, table.name
        compared += len(want)
    return compared


@pytest.fixture
def sqlite_source(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'source.db'}")
    database.migrate()
    yield database
    database.dispose()


def test_the_11027_paper_dataset_with_its_community_copies_exactly(sqlite_source, make_db_url):
    with sqlite_source.session() as src:
        assert import_jsonl(db=src, paths=[HF_JSONL]).created == 11027
        papers = src.scalars(select(Paper).order_by(Paper.id).limit(200)).all()
        _fill_community(src, papers)
    target = Database(make_db_url(migrated=True))
    seen: dict[str, tuple[int, int]] = {}
    try:
        with sqlite_source.session() as src, target.session() as dst:
            report = copy_database(source=src, target=dst, batch_size=700,
                                   progress=lambda t, done, total: seen.__setitem__(t, (done, total)))
            counts = {c.table: c.target for c in report.tables}
            assert counts["papers"] == 11027
            assert all(c.source == c.target for c in report.tables)
            assert {c.table for c in report.tables} == {t.name for t in data_tables()}
            for table in ("paper_authors", "daily_entries", "organizations", "users", "upvotes",
                          "comments", "subscriptions", "embeddings"):
                assert counts[table] > 0, table
            assert seen["papers"] == (11027, 11027)
            assert _assert_same_sample(src, dst) > 500

            # Sequences moved past the copied ids: new rows get fresh ids.
            made = make_paper(dst)
            assert made.id > max(p.id for p in papers)
            if BACKEND == "postgres":
                mirrored = dst.execute(text(
                    "SELECT count(*) FROM embeddings WHERE embedding IS NOT NULL")).scalar_one()
                assert mirrored == counts["embeddings"] == 40
    finally:
        target.dispose()


def test_copy_back_from_the_test_backend_into_sqlite(db, tmp_path: Path):
    papers = [make_paper(db, organization=("org", "An Org")) for _ in range(30)]
    _fill_community(db, papers, users=3)
    target = Database(f"sqlite:///{tmp_path / 'back.db'}")
    target.migrate()
    try:
        with target.session() as dst:
            report = copy_database(source=db, target=dst, batch_size=7)
            assert {c.table: c.target for c in report.tables}["papers"] == 30
            assert _assert_same_sample(db, dst) > 30
    finally:
        target.dispose()


def test_a_filled_target_is_refused_unless_replaced(sqlite_source, db):
    with sqlite_source.session() as src:
        make_paper(src, title="From the source")
    make_paper(db, title="Already in the target")
    with sqlite_source.session() as src:
        with pytest.raises(CopyError, match=r"not empty: .*papers \(1\).*--replace"):
            copy_database(source=src, target=db)
        assert db.scalars(select(Paper.title)).all() == ["Already in the target"]
        copy_database(source=src, target=db, replace=True)
    assert db.scalars(select(Paper.title)).all() == ["From the source"]


def test_a_source_behind_the_target_schema_is_refused(tmp_path: Path, db):
    unmigrated = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with unmigrated.session() as src, pytest.raises(CopyError, match="db migrate"):
            copy_database(source=src, target=db)
    finally:
        unmigrated.dispose()
    assert db.scalar(select(func.count()).select_from(Paper)) == 0


def test_a_failed_copy_leaves_the_target_empty(sqlite_source, db):
    with sqlite_source.session() as src:
        for _ in range(5):
            make_paper(src)

    def fail_on_embeddings(table: str, done: int, total: int) -> None:
        if table == "embeddings":
            raise RuntimeError("interrupted")

    with sqlite_source.session() as src, pytest.raises(RuntimeError, match="interrupted"):
        copy_database(source=src, target=db, progress=fail_on_embeddings)
    assert db.scalar(select(func.count()).select_from(Paper)) == 0
