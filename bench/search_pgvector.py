"""Hybrid search on PostgreSQL: pgvector's HNSW index against the in-process index, same data.

    export DAILYPAPERS_BENCH_POSTGRES_URL="$(.venv/bin/python -m tests.pg start /tmp/dp-pg-bench)"
    .venv/bin/python bench/search_pgvector.py --sizes 10000 100000
    .venv/bin/python -m tests.pg remove /tmp/dp-pg-bench

For each size, a fresh database on that server (dropped afterwards) holds n papers (the real HF
papers, then synthetic text: ``search_latency.documents``) and n SYNTHETIC 384-d vectors
(``search_latency.vectors``: mixtures of the 183 shipped real vectors plus noise). The keyword
index is built once from the database. Then the same vectors are searched two ways, through the
product's classes: ``search_vector_backend=memory`` (``VectorIndex.rebuild`` from the table:
exact up to 20k, faiss HNSW above) and ``pgvector`` (``ensure_vector_index``: HNSW M=16,
ef_construction=64, queried with ef_search = the 200 candidates). Per backend, the 30 queries of
search_latency × repeats:

- ``dense``:  query embedding (real, onnxruntime) + nearest 200
- ``hybrid``: ``ranking.rank_query`` = BM25 ∥ query embedding, nearest 200, RRF
- ``search``: ``service.search_papers`` end to end (pins, filters, 20 result cards from PostgreSQL)

plus recall@10 against exact search. Figures are printed and written to
bench/results/search_pgvector.json. The 2-core machine is shared with other work while this runs;
the load average is recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results" / "search_pgvector.json"

from search_catalog import documents, vectors  # noqa: E402
from search_latency import QUERIES, percentile  # noqa: E402


def _database(server: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    from dailypapers.store.db import normalize_url

    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # An HNSW build over 100k+ vectors needs more than the 64 MB default to stay in memory.
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET maintenance_work_mem = '1GB'"))
    admin.dispose()
    return normalize_url(server).rsplit("/", 1)[0] + "/" + name


def _drop(server: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    from dailypapers.store.db import normalize_url

    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fill(database, n: int, model: str) -> float:  # type: ignore[no-untyped-def]
    """Papers and embeddings by bulk INSERT; returns seconds."""
    import numpy as np
    from sqlalchemy import insert

    from dailypapers.store import Embedding, Paper

    t0 = time.perf_counter()
    with database.session() as db:
        for batch in documents(n):
            db.execute(insert(Paper), [{"id": d.paper_id, "key": f"bench-{d.paper_id}", "title": d.title,
                                        "title_key": d.title.lower()[:500], "abstract": d.abstract,
                                        "arxiv_id": None} for d in batch])
            db.commit()
        for pids, matrix in vectors(n):
            rows = [{"paper_id": pid, "model": model, "content_hash": "h", "dim": matrix.shape[1],
                     "vector": np.asarray(v, dtype="<f4").tobytes()} for pid, v in zip(pids, matrix, strict=True)]
            for start in range(0, len(rows), 5000):
                db.execute(insert(Embedding), rows[start:start + 5000])
                db.commit()
    return time.perf_counter() - t0


def _recall(search, n: int) -> float:  # type: ignore[no-untyped-def]
    import numpy as np

    matrix = np.concatenate([m for _, m in vectors(n)])
    queries = next(vectors(30, seed=99))[1]
    hits = 0
    for q in queries:
        exact = set((np.argpartition(-(matrix @ q), 10)[:10] + 1).tolist())
        hits += len(exact & {pid for pid, _ in search(q)})
    return hits / (10 * len(queries))


def run_one(server: str, n: int, repeats: int) -> dict:
    import tempfile

    from sqlalchemy import text

    from dailypapers.search.engine import SearchEngine
    from dailypapers.search.query import parse_query
    from dailypapers.search.ranking import rank_query
    from dailypapers.services.search import SearchRequest, search_papers
    from dailypapers.settings import Settings
    from dailypapers.store.db import Database

    load_before = os.getloadavg()[0]
    name = f"dp_bench_pgvector_{n}"
    url = _database(server, name)
    tmp = Path(tempfile.mkdtemp(prefix=f"dp-pgvector-{n}-"))
    database = Database(url)
    try:
        database.migrate()
        base = Settings(database_url=url, data_dir=tmp, search_model_cache_dir=ROOT / "var" / "models",
                        environment="development", load_sample=False)
        engines = {"pgvector": SearchEngine(base),
                   "memory": SearchEngine(base.model_copy(update={"search_vector_backend": "memory"}))}
        fill = _fill(database, n, base.search_embedding_model)
        build: dict[str, float] = {"fill_database": round(fill, 1)}
        with database.session() as db:
            db.execute(text("ANALYZE"))
            db.commit()
            t0 = time.perf_counter()
            engines["pgvector"].keyword.rebuild(db)
            build["keyword"] = round(time.perf_counter() - t0, 1)
            for backend, engine in engines.items():
                t0 = time.perf_counter()
                summary = engine.rebuild_vectors(db)
                build[backend] = round(time.perf_counter() - t0, 1)
                print(f"  {backend}: {summary} in {build[backend]} s", file=sys.stderr, flush=True)
            db.commit()
        engines["pgvector"].provider.embed_query("warm up")
        limit = base.search_candidates
        results: dict[str, dict] = {}
        for backend, engine in engines.items():
            engine.provider.embed_query("warm up")
            timings: dict[str, list[float]] = {"dense": [], "dense_search_only": [], "hybrid": [], "search": []}
            with database.session() as db:
                dense = engine.prepare(db)
                for _ in range(repeats):
                    for q in QUERIES:
                        parsed = parse_query(q)
                        t = time.perf_counter()
                        vec = engine.provider.embed_query(parsed.text)
                        mid = time.perf_counter()
                        dense.search(vec, limit=limit)
                        end = time.perf_counter()
                        timings["dense"].append(end - t)
                        timings["dense_search_only"].append(end - mid)
                        t = time.perf_counter()
                        rank_query(engine, parsed, vector=engine.embed_query_async(parsed.text), dense=dense,
                                   limit=limit)
                        timings["hybrid"].append(time.perf_counter() - t)
                        db.rollback()  # one transaction per query, as a web request has
                        t = time.perf_counter()
                        search_papers(db=db, engine=engine, request=SearchRequest(q=q))
                        timings["search"].append(time.perf_counter() - t)
                        db.rollback()
                        dense = engine.prepare(db)
                recall = _recall(lambda v: dense.search(v, limit=10), n)  # noqa: B023
            results[backend] = {
                "index": engine.vectors.kind if backend == "memory" else "pgvector hnsw (m=16, ef_construction=64)",
                "recall_at_10": round(recall, 3),
                "latency_ms": {k: {"p50": round(1000 * statistics.median(v), 2),
                                   "p99": round(1000 * percentile(v, 99), 2)} for k, v in timings.items()},
            }
        return {"papers": n, "vectors": "synthetic", "queries": len(QUERIES) * repeats,
                "candidates_per_list": limit, "build_seconds": build, "backends": results,
                "load_average": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}}
    finally:
        database.dispose()
        _drop(server, name)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=2, help="Times each of the 30 queries is run.")
    parser.add_argument("--url", default=os.environ.get("DAILYPAPERS_BENCH_POSTGRES_URL"),
                        help="A PostgreSQL server with pgvector (a superuser URL; default: "
                        "$DAILYPAPERS_BENCH_POSTGRES_URL).")
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or set DAILYPAPERS_BENCH_POSTGRES_URL (see the docstring)")
    runs = []
    for n in args.sizes:
        print(f"{n:,} papers ...", flush=True)
        r = run_one(args.url, n, args.repeats)
        runs.append(r)
        print(f"  build: {r['build_seconds']}")
        for backend, b in r["backends"].items():
            lat = b["latency_ms"]
            print(f"  {backend:8} ({b['index']}, recall@10 {b['recall_at_10']}): "
                  + "   ".join(f"{k} p50 {v['p50']} / p99 {v['p99']} ms" for k, v in lat.items()))
        print(f"  load average {r['load_average']['before']} → {r['load_average']['after']} (2 cores, shared)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "hybrid search on PostgreSQL: pgvector vs in-process vector index",
        "notes": "vectors synthetic; query vectors real (onnxruntime all-MiniLM-L6-v2); PostgreSQL 16 + "
        "pgvector from the pgserver wheel on the same machine; the machine was shared with other work",
        "results": runs,
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }, indent=2))
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
