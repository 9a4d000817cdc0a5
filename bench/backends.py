"""SQLite vs PostgreSQL side by side, one run: search latency (keyword, hybrid) through the search
service, and daily-page requests/s (page cache off and on) through ``dailypapers serve``,
with the same 100,000 papers on both.

    .venv/bin/python bench/backends.py --postgres-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/backends.py --papers 20000 --seconds 5     # a quicker run
    (--postgres-url defaults to $DAILYPAPERS_TEST_POSTGRES_URL; the role must create databases)

Papers: the 11,027 real HF papers plus synthetic ones shaped like them (``bench/import.py``),
imported into each database by ``dailypapers import jsonl``. Vectors: SYNTHETIC (mixtures of the
real bundled all-MiniLM-L6-v2 vectors, as in ``bench/search_latency.py``: embedding 100k abstracts
would take hours here); query vectors are real (the product's onnxruntime query model). Indexes
are made by ``dailypapers index rebuild``.

- Search: ``search_papers`` (the service behind /search and the API: ranking, filters, loading
  the page of cards from the database) in this process, 30 queries × ``--repeats``, modes
  ``keyword`` and ``hybrid``. On PostgreSQL with both vector backends: ``pgvector`` (the default
  there) and ``memory`` (the in-process index, as on SQLite).
- Web: the daily page of the latest day, ``bench/web.py``'s server and load generator (wrk when
  installed, else httpx in a separate process), ``--workers`` worker(s), uncached and cached.

Results go to ``bench/results/backends.json`` with dataset size, machine facts and load averages
(this 2-core machine is shared with other work; the load generator shares the cores too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import web  # noqa: E402  (bench/web.py: server, load generator, machine facts)
from search_catalog import vectors  # noqa: E402
from search_latency import QUERIES, percentile  # noqa: E402

bench_import = importlib.import_module("import")  # bench/import.py: synthetic papers
RESULTS = ROOT / "bench" / "results" / "backends.json"
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
MODEL_CACHE = ROOT / "var" / "models"


def _env(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATABASE_URL=url, DAILYPAPERS_DATA_DIR=str(data_dir), DAILYPAPERS_LOAD_SAMPLE="false",
               DAILYPAPERS_SEARCH_MODEL_CACHE_DIR=str(MODEL_CACHE), **extra)
    return env


def _cli(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dailypapers", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return round(time.perf_counter() - started, 1)


def store_synthetic_vectors(url: str, model: str) -> int:
    """One synthetic vector per paper, in paper-id order (the product's writer: ``store_vectors``)."""
    from sqlalchemy import select

    from dailypapers.search.embedder import store_vectors
    from dailypapers.store import Paper
    from dailypapers.store.db import Database

    database = Database(url)
    with database.session() as db:
        ids = list(db.scalars(select(Paper.id).order_by(Paper.id)))
        done = 0
        for _, matrix in vectors(len(ids)):
            for start in range(0, len(matrix), 5000):
                chunk = matrix[start:start + 5000]
                store_vectors(db=db, model=model, rows=[(pid, "synthetic", vec) for pid, vec in
                                                        zip(ids[done:done + len(chunk)], chunk, strict=True)])
                db.commit()
                done += len(chunk)
    database.dispose()
    return done


def search_latency(url: str, data_dir: Path, vector_backend: str, repeats: int) -> dict[str, object]:
    from dailypapers.search.engine import SearchEngine
    from dailypapers.services.search import SearchRequest, search_papers
    from dailypapers.settings import Settings
    from dailypapers.store.db import Database

    settings = Settings(database_url=url, data_dir=data_dir, load_sample=False, environment="development",
                        search_model_cache_dir=MODEL_CACHE, search_vector_backend=vector_backend)  # type: ignore[arg-type]
    database = Database(url)
    engine = SearchEngine(settings)
    out: dict[str, object] = {"vector_backend": vector_backend}
    with database.session() as db:
        engine.embed_query("warm up")  # the query model loads once per process, not per query
        for mode in ("keyword", "hybrid"):
            for q in QUERIES[:5]:
                search_papers(db=db, engine=engine, request=SearchRequest(q=q, mode=mode))
            seconds = []
            for _ in range(repeats):
                for q in QUERIES:
                    t = time.perf_counter()
                    page = search_papers(db=db, engine=engine, request=SearchRequest(q=q, mode=mode))
                    seconds.append(time.perf_counter() - t)
                    db.rollback()  # end the read, as a request does
                    assert page.hits, (mode, q)
            out[mode] = {"p50_ms": round(1000 * statistics.median(seconds), 2),
                         "p99_ms": round(1000 * percentile(seconds, 99), 2), "queries": len(seconds)}
    database.dispose()
    return out


def daily_page(db_url: str, workdir: Path, args: argparse.Namespace) -> dict[str, object]:
    from sqlalchemy import func, select

    from dailypapers.store import DailyEntry
    from dailypapers.store.db import Database

    database = Database(db_url)
    with database.session() as db:
        day, count = db.execute(select(DailyEntry.day, func.count()).group_by(DailyEntry.day)
                                .order_by(DailyEntry.day.desc()).limit(1)).one()
    database.dispose()
    path = f"/papers/date/{day}"
    rows = []
    for mode, cache_seconds in (("uncached", 0.0), ("cached", 5.0)):
        with web.Server(workdir / "unused.db", args.workers, cache_seconds, database_url=db_url,
                        env={"DAILYPAPERS_SEARCH_MODEL_CACHE_DIR": str(MODEL_CACHE)}) as server:
            web.warm_up(server.url + path, args.workers)
            result = web.load(server.url + path, args.seconds, args.connections)
        rows.append({"mode": mode, "workers": args.workers, "path": path, "papers_on_day": count, **result})
    return {"results": rows}


def one_backend(name: str, db_url: str, workdir: Path, jsonl: list[Path], args: argparse.Namespace,
                vector_backends: list[str]) -> dict[str, object]:
    from sqlalchemy import func, select

    from dailypapers.store import Paper
    from dailypapers.store.db import Database

    data_dir = workdir / "var"
    env = _env(db_url, data_dir)
    load_before = os.getloadavg()
    print(f"{name}: importing …", flush=True)
    imported = _cli(env, "import", "jsonl", *map(str, jsonl))
    database = Database(db_url)
    with database.session() as db:
        papers = db.scalar(select(func.count()).select_from(Paper))
    database.dispose()
    model = "sentence-transformers/all-MiniLM-L6-v2"
    t = time.perf_counter()
    stored = store_synthetic_vectors(db_url, model)
    vectors_seconds = round(time.perf_counter() - t, 1)
    out: dict[str, object] = {"backend": name, "papers": papers, "vectors": stored,
                              "seconds": {"import": imported, "store_vectors": vectors_seconds}}
    searches = []
    for backend in vector_backends:
        print(f"{name}: index rebuild ({backend} vectors) …", flush=True)
        out["seconds"][f"index_rebuild_{backend}"] = _cli(  # type: ignore[index]
            _env(db_url, data_dir, DAILYPAPERS_SEARCH_VECTOR_BACKEND=backend), "index", "rebuild")
        print(f"{name}: search latency ({backend} vectors) …", flush=True)
        searches.append(search_latency(db_url, data_dir, backend, args.repeats))
    out["search"] = searches
    print(f"{name}: daily page …", flush=True)
    out["daily_page"] = daily_page(db_url, workdir, args)["results"]
    out["load_average"] = {"before": [round(x, 2) for x in load_before],
                           "after": [round(x, 2) for x in os.getloadavg()]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000, help="total papers (real HF + synthetic)")
    parser.add_argument("--postgres-url", default=os.environ.get("DAILYPAPERS_TEST_POSTGRES_URL", ""))
    parser.add_argument("--repeats", type=int, default=2, help="times each of the 30 queries is timed")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per web measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="web worker processes")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not args.postgres_url:
        parser.error("--postgres-url (or DAILYPAPERS_TEST_POSTGRES_URL) is required")
    from sqlalchemy import create_engine, make_url, text

    report: dict[str, object] = {
        "benchmark": "SQLite vs PostgreSQL: search latency and daily-page requests/s",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": web.machine(),
        "note": "2-core machine shared with other jobs; PostgreSQL, the web workers and the load generator "
                "share its cores: figures are noisy and a floor. Vectors are synthetic.",
        "backends": []}
    admin_url = make_url(args.postgres_url).set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = "dpbench_backends"
    with tempfile.TemporaryDirectory(prefix="dp-backends-") as tmp:
        work = Path(tmp)
        hf_lines = HF_JSONL.read_bytes().count(b"\n")
        synthetic = work / "synthetic.jsonl"
        bench_import.write_synthetic(synthetic, max(0, args.papers - hf_lines))
        jsonl = [HF_JSONL, synthetic]
        with admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        report["machine"]["postgresql"] = version  # type: ignore[index]
        pg_url = admin_url.set(database=name).render_as_string(hide_password=False)
        try:
            for backend, url, vector_backends in (
                    ("sqlite", f"sqlite:///{work / 'sqlite' / 'bench.db'}", ["memory"]),
                    ("postgres", pg_url, ["pgvector", "memory"])):
                (work / backend).mkdir()
                report["backends"].append(  # type: ignore[attr-defined]
                    one_backend(backend, url, work / backend, jsonl, args, vector_backends))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    for b in report["backends"]:  # type: ignore[attr-defined]
        print(f"{b['backend']:8} {b['papers']:,} papers; import {b['seconds']['import']} s")
        for s in b["search"]:
            for mode in ("keyword", "hybrid"):
                print(f"   search {mode:7} ({s['vector_backend']:8} vectors)  p50 {s[mode]['p50_ms']:7.2f} ms"
                      f"  p99 {s[mode]['p99_ms']:7.2f} ms")
        for r in b["daily_page"]:
            print(f"   daily page {r['mode']:8} workers={r['workers']}  {r['requests_per_s']:7.0f} req/s"
                  f"  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"
                  + (f"  non-2xx {r['non_2xx']}" if r["non_2xx"] else ""))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
