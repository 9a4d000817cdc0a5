"""Similar papers end to end at 100k papers: ``similar_ids`` as the paper page calls it, with the
sentence-level re-ranking (title + sentence rows read and aligned) and without it.

    .venv/bin/python bench/similar_latency.py --papers 100000 --cache /path/to/cache

Papers, authors, the keyword index, the whole-abstract vectors and their index are the ones of
``bench/search_latency.py`` (the real 11,027 HF papers first, then synthetic ones; vectors
SYNTHETIC, mixtures of real MiniLM vectors plus noise). Each paper's ``sentence_embeddings`` row is
what ``dailypapers embed`` stores (``sentences.paper_items``: the title, then the abstract's
sentences, so the real per-paper counts of the split) holding synthetic float16 unit vectors near
the paper's vector. The same ``--queries`` papers are then asked for 6 similar papers with
``search_sentences`` on and off, one transaction each as a page view has; wall and CPU time per
call are reported (CPU of the process: steadier on this shared machine). JSON to stdout and to
bench/results/similar_latency.json, with the dataset size, the machine and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine_facts import load_average, machine  # bench/machine_facts.py

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "similar_latency.json"
CACHE_VERSION = 1  # bump when the sentence rows below change


def fill_sentences(path: Path, n: int, vectors) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """One ``sentence_embeddings`` row per paper (title + sentences, float16) near its vector."""
    import numpy as np

    from bench.search_catalog import documents
    from dailypapers.search.sentences import paper_items, sentences_hash

    rng = np.random.default_rng(5)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("DELETE FROM sentence_embeddings")
    stamp = "2025-01-01 00:00:00.000000"
    counts = []
    matrix = np.concatenate([m for _, m in vectors])
    for batch in documents(n):
        rows = []
        for d in batch:
            items = paper_items(d.title, d.abstract)
            noise = rng.normal(scale=1.0 / np.sqrt(matrix.shape[1]), size=(len(items), matrix.shape[1]))
            block = matrix[d.paper_id - 1] + noise.astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            counts.append(len(items))
            rows.append((d.paper_id, "sentence-transformers/all-MiniLM-L6-v2", sentences_hash(items), len(items),
                         matrix.shape[1], block.astype("<f2").tobytes(), stamp))
        con.executemany("INSERT INTO sentence_embeddings (paper_id, model, content_hash, count, dim, vectors,"
                        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return {"vectors_per_paper_mean": round(sum(counts) / len(counts), 2),
            "bytes_per_paper_mean": round(sum(counts) / len(counts) * matrix.shape[1] * 2)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="Papers asked for their similar papers.")
    parser.add_argument("--cache", type=Path, help="Keep the built papers, indexes and database here.")
    args = parser.parse_args()
    import random

    from bench.search_catalog import CACHE_VERSION as DOCS_VERSION
    from bench.search_catalog import cached_vectors, documents, fill_database, is_cached, vectors
    from dailypapers.search.engine import SearchEngine
    from dailypapers.services.search import similar_ids
    from dailypapers.settings import Settings
    from dailypapers.store.db import Database

    n = args.papers
    load_before = os.getloadavg()
    base = (args.cache / f"papers-{n}") if args.cache else Path(tempfile.mkdtemp(prefix="dp-similar-"))
    base.mkdir(parents=True, exist_ok=True)
    db_path = base / "similar.db"
    settings = Settings(data_dir=base, database_url=f"sqlite:///{db_path}", environment="development",
                        search_model_cache_dir=ROOT / "var" / "models", load_sample=False)
    engine = SearchEngine(settings)
    key = {"n": n, "version": DOCS_VERSION, "sentences": CACHE_VERSION}
    batches_of = (lambda: cached_vectors(base, n)) if args.cache else (lambda: vectors(n))
    built: dict[str, float] = {}
    stats: dict[str, float] = {}
    if not is_cached(base / "similar.done", key):
        t0 = time.perf_counter()
        assert engine.keyword.rebuild_from(list(documents(n))) == n
        built["keyword"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert engine.vectors.build_from(batches_of(), total=n, watermark=None) == n
        built["vectors"] = time.perf_counter() - t0
        db_path.unlink(missing_ok=True)
        t0 = time.perf_counter()
        fill_database(db_path, n)
        stats = fill_sentences(db_path, n, batches_of())
        built["database"] = time.perf_counter() - t0
        (base / "similar.stats.json").write_text(json.dumps(stats))
        (base / "similar.done").write_text(json.dumps(key))
    else:
        assert engine.vectors.load()
        stats = json.loads((base / "similar.stats.json").read_text())
    database = Database(settings.database_url)
    database.migrate()
    con = sqlite3.connect(db_path)
    chosen = random.Random(3).sample(range(1, n + 1), args.queries)
    texts = {pid: (title, abstract) for pid, title, abstract in con.execute(
        f"SELECT id, title, abstract FROM papers WHERE id IN ({','.join(map(str, chosen))})")}
    con.close()
    on, off = settings, settings.model_copy(update={"search_sentences": False})
    timings: dict[str, dict[str, list[float]]] = {}
    with database.session() as db:
        engine.prepare(db)
        for name, variant in (("with_sentences", on), ("without_sentences", off), ("with_sentences_again", on)):
            engine.settings = variant
            wall, cpu = [], []
            for pid in chosen:
                t, c = time.perf_counter(), time.process_time()
                ids = similar_ids(db=db, engine=engine, paper_id=pid, title=texts[pid][0], abstract=texts[pid][1],
                                  limit=6)
                db.rollback()  # one transaction per page view
                wall.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                assert len(ids) == 6 and pid not in ids
            timings[name] = {"wall": wall, "cpu": cpu}
    database.dispose()
    result = {
        "benchmark": "similar papers end to end (services.search.similar_ids, limit 6)",
        "papers": n, "queries": args.queries, "vectors": "synthetic", "vector_index": engine.vectors.kind,
        "sentence_rows": stats, "build_seconds": {k: round(v, 1) for k, v in built.items()} or None,
        "latency_ms": {name: {f"{kind}_{q}": round(1000 * (statistics.median(v) if q == "p50"
                                                           else percentile(v, 99)), 2)
                              for kind, v in t.items() for q in ("p50", "p99")} for name, t in timings.items()},
        "machine": machine(shared=True), "load_average": load_average(load_before),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    main()
