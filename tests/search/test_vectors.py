"""The in-process vector index against the embeddings table (synthetic unit vectors, no model)."""

import numpy as np
import pytest

from dailypapers.search.embedder import store_vectors
from dailypapers.search.vectors import VectorIndex
from tests.factories import make_paper

MODEL = "test-model"


def _unit(seed: int, dim: int = 16) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def _store(db, rows):
    store_vectors(db=db, model=MODEL, rows=[(pid, f"h{pid}", vec) for pid, vec in rows])
    db.commit()


@pytest.fixture
def papers(db):
    return [make_paper(db) for _ in range(6)]


@pytest.mark.parametrize("exact_max", [1000, 0], ids=["exact", "ivf"])
def test_sync_finds_new_and_changed_vectors_and_hides_old_ones(db, settings, papers, exact_max):
    _store(db, [(p.id, _unit(i)) for i, p in enumerate(papers[:4])])
    index = VectorIndex(settings.data_dir / "vec", model=MODEL, exact_max=exact_max)
    assert index.sync(db) == 4
    assert index.kind == ("exact" if exact_max else "ivf")
    assert index.search(_unit(2), limit=1)[0][0] == papers[2].id
    assert index.search(_unit(2), limit=1)[0][1] == pytest.approx(1.0, abs=1e-5)
    # A new paper's vector and a changed vector arrive after the index was built.
    _store(db, [(papers[4].id, _unit(40)), (papers[1].id, _unit(41))])
    assert index.sync(db) == 2
    assert index.search(_unit(40), limit=1)[0][0] == papers[4].id
    assert index.search(_unit(41), limit=1)[0][0] == papers[1].id
    top = index.search(_unit(1), limit=6)
    assert [pid for pid, _ in top].count(papers[1].id) == 1  # the old vector is hidden
    assert index.sync(db) == 0


def test_the_index_is_persisted_and_a_new_process_catches_up_from_its_watermark(db, settings, papers):
    _store(db, [(p.id, _unit(i)) for i, p in enumerate(papers[:3])])
    first = VectorIndex(settings.data_dir / "vec", model=MODEL)
    assert first.rebuild(db) == 3
    assert (settings.data_dir / "vec" / "params.json").exists()
    _store(db, [(papers[5].id, _unit(55))])
    second = VectorIndex(settings.data_dir / "vec", model=MODEL)  # loads the files, then the delta
    assert second.sync(db) == 1
    assert second.count == 4
    assert second.search(_unit(55), limit=1)[0][0] == papers[5].id
    assert second.search(_unit(0), limit=1)[0][0] == papers[0].id


def test_vectors_of_returns_current_vectors(db, settings, papers):
    _store(db, [(papers[0].id, _unit(1))])
    index = VectorIndex(settings.data_dir / "vec", model=MODEL)
    index.sync(db)
    _store(db, [(papers[0].id, _unit(2))])
    index.sync(db)
    np.testing.assert_allclose(index.vectors_of([papers[0].id, papers[1].id])[papers[0].id], _unit(2))
    assert papers[1].id not in index.vectors_of([papers[1].id])


def test_other_models_are_ignored(db, settings, papers):
    store_vectors(db=db, model="other", rows=[(papers[0].id, "h", _unit(1))])
    db.commit()
    index = VectorIndex(settings.data_dir / "vec", model=MODEL)
    index.sync(db)
    assert index.count == 0
    assert index.search(_unit(1), limit=3) == []


def test_ivf_partitions_find_each_stored_vector_and_survive_a_reload(settings):
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(4000, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    ids = list(range(1, 4001))
    index = VectorIndex(settings.data_dir / "vec", model=MODEL, exact_max=1000)
    batches = [(ids[s:s + 700], matrix[s:s + 700]) for s in range(0, 4000, 700)]  # as `_rows` streams them
    assert index.build_from(batches, total=4000, watermark=None) == 4000
    assert index.kind == "ivf"
    assert index.index_params(total=4000)["lists"] == 100  # 4·√4000 → 256, capped by 40 training points each
    for pid in (1, 777, 2500, 4000):  # a vector's own partition is always scanned: it comes first
        best, score = index.search(matrix[pid - 1], limit=5)[0]
        assert best == pid and score == pytest.approx(1.0, abs=1e-5)
    exact = set((np.argsort(-(matrix @ matrix[9]))[:10] + 1).tolist())
    assert len(exact & {pid for pid, _ in index.search(matrix[9], limit=10)}) >= 9
    reloaded = VectorIndex(settings.data_dir / "vec", model=MODEL, exact_max=1000)
    assert reloaded.load() and reloaded.kind == "ivf" and reloaded.count == 4000
    assert reloaded.search(matrix[2499], limit=1) == index.search(matrix[2499], limit=1)
    np.testing.assert_allclose(reloaded.vectors_of([42])[42], matrix[41])
