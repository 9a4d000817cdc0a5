"""Two real ``dailypapers embed`` processes at once on PostgreSQL: no paper is embedded twice and
every paper ends up embedded (claims in ``store/claims.py``).

The two workers must really overlap: the test holds a lock that stops any write to
``embeddings`` until both processes hold claims at the same moment (seen in ``pg_locks``), so
each one has claimed its own batch and computed its vectors before either could store any.
A small set of papers: the real model costs ~0.1 s per abstract on this machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from dailypapers.store import Embedding, Paper
from dailypapers.store.claims import namespace_key, try_claim
from dailypapers.store.db import Database
from tests.factories import make_paper
from tests.server import settings_env

pytestmark = pytest.mark.postgres_only

PAPERS = 24
BATCH = 4
TOPICS = ["graph neural networks", "speech recognition", "protein folding", "robot grasping",
          "code generation", "image segmentation", "weather forecasting", "music synthesis"]


def _embed(settings: Settings, data_dir: Path) -> subprocess.Popen[str]:
    # Each worker has its own data directory, as workers on different machines would.
    env = settings_env(settings.model_copy(update={"data_dir": data_dir}))
    return subprocess.Popen([sys.executable, "-m", "dailypapers", "embed", "--batch-size", str(BATCH)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _claimers(db: Session, model: str) -> set[int]:
    """Backends of this database holding embedding claims of ``model`` right now."""
    key = namespace_key(f"embed:{model}") & 0xFFFFFFFF  # pg_locks shows the key as unsigned
    rows = db.execute(text(
        "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = :key "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"key": key})
    db.rollback()
    return set(rows.scalars())


def test_two_embed_workers_share_the_papers_and_embed_each_once(
        db: Session, database: Database, settings: Settings, tmp_path: Path) -> None:
    for i in range(PAPERS):
        topic = TOPICS[i % len(TOPICS)]
        make_paper(db, title=f"Study {i} of {topic}",
                   abstract=f"We study {topic} with method number {i} and report results on benchmark {i}.")
    model = settings.search_embedding_model
    gate = database.engine.connect()
    gate.begin()
    gate.execute(text("LOCK TABLE embeddings IN EXCLUSIVE MODE"))  # reads pass, writes wait
    workers = []
    try:
        workers = [_embed(settings, tmp_path / f"worker{n}") for n in range(2)]
        deadline = time.monotonic() + 300
        while len(_claimers(db, model)) < 2:
            exited = [w for w in workers if w.poll() is not None]
            assert not exited, exited[0].communicate()[0]
            assert time.monotonic() < deadline, "the two workers never held claims at the same time"
            time.sleep(0.1)
    finally:
        gate.rollback()
        gate.close()
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs

    embedded = [int(re.search(r"embed: (\d+) embedded", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sum(embedded) == PAPERS, outputs  # nothing computed twice …
    assert min(embedded) >= BATCH, embedded  # … and both did their share
    db.expire_all()
    assert db.scalar(select(func.count(func.distinct(Embedding.paper_id))).where(
        Embedding.model == model)) == PAPERS == db.scalar(select(func.count()).select_from(Paper))


def test_a_claimed_id_is_skipped_by_another_transaction_until_commit(
        db: Session, database: Database) -> None:
    with database.session() as other:
        assert try_claim(db=other, namespace="job", ids=[3, 1, 2]) == [3, 1, 2]
        assert try_claim(db=db, namespace="job", ids=[1, 2, 4]) == [4]  # never waits
        assert try_claim(db=db, namespace="another job", ids=[1, 2]) == [1, 2]
        other.commit()  # releases 1, 2, 3
    db.commit()
    assert try_claim(db=db, namespace="job", ids=[1, 2, 3]) == [1, 2, 3]
    db.rollback()
