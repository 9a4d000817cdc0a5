"""The synthetic catalog of the search benches (search_latency, similar_latency, search_pgvector,
pg_keyword, backends): the real HF papers first, then synthetic ones drawn from their word
frequencies; synthetic vectors with the structure of real ones; the same papers as a SQLite
database; and a cache of the vectors (``--cache``) so a 1M run builds them once."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
DIM = 384


def documents(n: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """Batches of ``PaperText``: the real papers, then synthetic ones from the real word distribution."""
    import numpy as np

    from dailypapers.search.documents import PaperText

    when = dt.datetime(2025, 1, 1)
    real = [json.loads(line) for line in HF_JSONL.read_text(encoding="utf-8").splitlines()][:n]
    batch: list[PaperText] = []
    counts: dict[str, int] = {}
    for i, rec in enumerate(real):
        for word in re.findall(r"[A-Za-z][A-Za-z\-]+", rec["abstract"]):
            counts[word] = counts.get(word, 0) + 1
        batch.append(PaperText(i + 1, rec["title"], rec["abstract"], tuple(rec["authors"]), when))
        if len(batch) == 5000:
            yield batch
            batch = []
    if batch:
        yield batch
        batch = []
    rng = np.random.default_rng(seed)
    words = np.array(list(counts))
    p = np.array([counts[w] for w in words], dtype=np.float64)
    p /= p.sum()
    names = [a for rec in real[:3000] for a in rec["authors"]] or ["A. Author"]
    for start in range(len(real), n, 5000):
        size = min(5000, n - start)
        body = rng.choice(words, size=(size, 170), p=p)
        title = rng.choice(words, size=(size, 9), p=p)
        for j in range(size):
            pid = start + j + 1
            authors = tuple(names[(pid * 7 + k) % len(names)] for k in range(5))
            batch.append(PaperText(pid, " ".join(title[j]), " ".join(body[j]), authors, when))
        yield batch
        batch = []


def vectors(n: int, seed: int = 11):  # type: ignore[no-untyped-def]
    """Synthetic unit vectors with the structure of real ones: mixtures of two of the 183 real
    all-MiniLM-L6-v2 vectors shipped with the sample, plus Gaussian noise (cosine to the mixture ~0.8)."""
    import numpy as np

    from dailypapers.search.bundle import load_bundle

    bundled, _ = load_bundle("sentence-transformers/all-MiniLM-L6-v2")
    real = np.stack(list(bundled.values())).astype(np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, n, 50_000):
        size = min(50_000, n - start)
        a, b = rng.integers(0, len(real), size), rng.integers(0, len(real), size)
        w = rng.uniform(0, 1, size=(size, 1)).astype(np.float32)
        m = w * real[a] + (1 - w) * real[b]
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        m += rng.normal(scale=0.75 / np.sqrt(DIM), size=(size, DIM)).astype(np.float32)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        yield list(range(start + 1, start + size + 1)), m


def fill_database(path: Path, n: int) -> None:
    """A migrated SQLite database holding the same ``n`` papers as the indexes (same ids, texts and
    authors), written with plain executemany: the cards that ``search_papers`` loads."""
    import sqlite3

    from dailypapers.sources.records import normalize_title
    from dailypapers.store.db import Database

    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    stamp = "2025-01-01 00:00:00.000000"
    authors: dict[str, int] = {}
    for batch in documents(n):
        con.executemany(
            "INSERT INTO papers (id, key, title, title_key, abstract, num_authors, categories, imported_upvotes,"
            " upvotes, imported_comments, num_comments, created_at, modified_at)"
            " VALUES (?, ?, ?, ?, ?, ?, '[]', 0, 0, 0, 0, ?, ?)",
            [(d.paper_id, f"bench-{d.paper_id}", d.title, normalize_title(d.title), d.abstract, len(d.authors),
              stamp, stamp) for d in batch])
        fresh = {a for d in batch for a in d.authors if a not in authors}
        for name in sorted(fresh):
            authors[name] = len(authors) + 1
        con.executemany("INSERT INTO authors (id, name) VALUES (?, ?)", [(authors[a], a) for a in sorted(fresh)])
        con.executemany("INSERT INTO paper_authors (paper_id, position, author_id) VALUES (?, ?, ?)",
                        [(d.paper_id, i, authors[a]) for d in batch for i, a in enumerate(d.authors)])
    con.commit()
    con.close()


def database_catalog(path: Path) -> str | None:
    """The catalog id that migrating the database wrote (``store.catalog_identity``)."""
    from sqlalchemy import select

    from dailypapers.store.catalog_identity import catalog_id_column
    from dailypapers.store.db import Database

    database = Database(f"sqlite:///{path}")
    database.migrate()  # a database reused from --cache may predate a migration
    with database.session() as db:
        catalog = db.scalar(select(catalog_id_column()))
    database.dispose()
    return catalog


CACHE_VERSION = 1  # bump when documents(), vectors() or fill_database() change what they produce


def is_cached(marker: Path, key: dict) -> bool:
    try:
        return json.loads(marker.read_text()) == key
    except (OSError, ValueError):
        return False


def cached_vectors(base: Path, n: int):  # type: ignore[no-untyped-def]
    """``vectors(n)`` saved once as ``vectors.npy`` under ``base`` and read back in batches (memory-mapped)."""
    import numpy as np

    path, marker, key = base / "vectors.npy", base / "vectors.done", {"n": n, "version": CACHE_VERSION}
    if not is_cached(marker, key):
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, DIM))
        for pids, m in vectors(n):
            out[pids[0] - 1: pids[-1]] = m
        out.flush()
        del out
        marker.write_text(json.dumps(key))
    return _batches(np.load(path, mmap_mode="r"))


def _batches(matrix):  # type: ignore[no-untyped-def]
    import numpy as np

    for s in range(0, len(matrix), 50_000):
        yield list(range(s + 1, min(s + 50_000, len(matrix)) + 1)), np.ascontiguousarray(matrix[s: s + 50_000])
