"""Keyword search on PostgreSQL at 100k and 1M papers: PostgreSQL full-text search vs the
tantivy index fed from PostgreSQL — query latency (ordinary and common-term queries) and build time.

    .venv/bin/python bench/pg_keyword.py --postgres-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/pg_keyword.py --sizes 100000          # one size
    (--postgres-url defaults to $DAILYPAPERS_TEST_POSTGRES_URL; the role must create databases)

Each size runs in its own child process on a fresh database (migrated with the product's schema,
dropped afterwards). Papers: the 11,027 real HF papers, then synthetic ones whose words follow
the real abstracts' word frequencies (``bench/search_latency.documents``), with 5 authors each,
loaded with COPY (foreign-key triggers off during the load: a benchmark shortcut).

- PostgreSQL full-text search, as the issue describes it: a weighted ``tsvector``
  (title A, abstract B — English stemming; authors C — no stemming) in a table built from
  ``papers`` + authors, a GIN index, ``websearch_to_tsquery`` (any user text is a valid query),
  ranked by ``ts_rank_cd``, top 200 (the product's candidates per list). Two query semantics:
  ``and`` (websearch's default: every word must match) and ``or`` (any word, as the product's
  BM25 list does, which hybrid fusion needs for recall).
- tantivy: the product's ``KeywordIndex.rebuild`` reading the papers from PostgreSQL
  (``iter_papers``), then ``KeywordIndex.search`` (OR of words, BM25, top 200).

Latencies are measured from Python (PostgreSQL: one round trip over loopback, like the app).
Figures are printed and written to ``bench/results/pg_keyword.json`` with dataset sizes, machine
facts and load averages (this 2-core machine is shared with other work while it runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "pg_keyword.json"
CANDIDATES = 200
PASS_CAP_SECONDS = 20.0
# Words that occur in a large share of abstracts: the expensive case for any inverted index.
COMMON = ["large language models", "model", "learning", "data", "results", "performance of models",
          "we propose a novel method", "training data", "state of the art results", "language",
          "image", "the model learns from data"]
# Hostile input: must neither fail nor be slow.
HOSTILE = ['"unbalanced', "a & | ! ( :* <->", "-", "'; DROP TABLE papers; --", "🙂 emoji",
           "x" * 2000, "OR OR AND NOT", "(((", "title:abc", "\\"]
FTS_TABLE = """
CREATE TABLE paper_search AS
SELECT p.id AS paper_id,
       setweight(to_tsvector('english', p.title), 'A')
    || setweight(to_tsvector('english', p.abstract), 'B')
    || setweight(to_tsvector('simple', coalesce(a.names, '')), 'C') AS document
FROM papers p LEFT JOIN (
    SELECT pa.paper_id, string_agg(au.name, ' ' ORDER BY pa.position) AS names
    FROM paper_authors pa JOIN authors au ON au.id = pa.author_id GROUP BY pa.paper_id) a
  ON a.paper_id = p.id
"""
FTS_QUERY = {
    "and": "websearch_to_tsquery('english', %s)",
    # websearch's AND turned into OR (lexemes are quoted in tsquery text, so ' & ' is an operator).
    "or": "replace(websearch_to_tsquery('english', %s)::text, ' & ', ' | ')::tsquery",
}
FTS_SEARCH = ("SELECT paper_id FROM paper_search, (SELECT {q} AS query) AS q WHERE document @@ q.query "
              "ORDER BY ts_rank_cd(document, q.query) DESC LIMIT {limit}")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _summary(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": round(1000 * statistics.median(seconds), 2), "p99_ms": round(1000 * _pct(seconds, 99), 2),
            "max_ms": round(1000 * max(seconds), 2), "queries": len(seconds)}


def _conninfo(url: str) -> str:
    from sqlalchemy import make_url

    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


# --- loading ---------------------------------------------------------------------------------------

def load_papers(conninfo: str, n: int) -> dict[str, float]:
    """COPY ``n`` papers (real first, then synthetic) with their authors into a migrated database."""
    import psycopg

    sys.path.insert(0, str(ROOT / "bench"))
    from search_catalog import documents

    now = dt.datetime(2025, 6, 1)
    author_ids: dict[str, int] = {}
    generating = 0.0
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=False) as papers_conn, \
            psycopg.connect(conninfo, autocommit=False) as links_conn:
        for conn in (papers_conn, links_conn):
            conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        with papers_conn.cursor().copy(
                "COPY papers (id, key, arxiv_id, title, title_key, abstract, categories, published_at, "
                "imported_upvotes, upvotes, imported_comments, num_comments, created_at, modified_at) "
                "FROM STDIN") as papers, \
                links_conn.cursor().copy("COPY paper_authors (paper_id, position, author_id) FROM STDIN") as links:
            batches = documents(n)
            while True:
                t = time.perf_counter()
                batch = next(batches, None)
                generating += time.perf_counter() - t
                if batch is None:
                    break
                for doc in batch:
                    pid = doc.paper_id
                    # Distinct modification times, as real papers have (the index feed pages by them).
                    stamp = now + dt.timedelta(seconds=pid)
                    papers.write_row((pid, f"bench.{pid:07d}", f"bench.{pid:07d}", doc.title,
                                      doc.title.lower()[:500], doc.abstract, "[]", stamp, pid % 50,
                                      pid % 50, 0, 0, stamp, stamp))
                    for position, name in enumerate(doc.authors):
                        aid = author_ids.setdefault(name, len(author_ids) + 1)
                        links.write_row((pid, position, aid))
        with papers_conn.cursor().copy("COPY authors (id, name) FROM STDIN") as authors:
            for name, aid in author_ids.items():
                authors.write_row((aid, name))
        links_conn.commit()
        papers_conn.commit()
    loaded = time.perf_counter() - started
    with psycopg.connect(conninfo, autocommit=True) as conn:
        t = time.perf_counter()
        conn.execute("ANALYZE")
        analyze = time.perf_counter() - t
    return {"generate_seconds": round(generating, 1), "copy_seconds": round(loaded - generating, 1),
            "analyze_seconds": round(analyze, 1), "authors": len(author_ids)}


# --- PostgreSQL full-text search ---------------------------------------------------------------

def build_fts(conninfo: str) -> dict[str, object]:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        t = time.perf_counter()
        conn.execute(FTS_TABLE)
        vectors = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("CREATE INDEX paper_search_gin ON paper_search USING gin (document)")
        gin = time.perf_counter() - t
        conn.execute("ALTER TABLE paper_search ADD PRIMARY KEY (paper_id)")
        conn.execute("VACUUM ANALYZE paper_search")
        table_mib, index_mib = conn.execute(
            "SELECT pg_total_relation_size('paper_search') / 1048576.0, "
            "pg_relation_size('paper_search_gin') / 1048576.0").fetchone()  # type: ignore[misc]
    return {"tsvector_seconds": round(vectors, 1), "gin_seconds": round(gin, 1),
            "build_seconds": round(vectors + gin, 1), "table_with_indexes_mib": round(float(table_mib)),
            "gin_mib": round(float(index_mib))}


def time_fts(conninfo: str, queries: list[str], semantics: str, repeats: int,
             count: bool = True) -> tuple[list[float], list[int]]:
    import psycopg

    sql = FTS_SEARCH.format(q=FTS_QUERY[semantics], limit=CANDIDATES)
    count_sql = f"SELECT count(*) FROM paper_search WHERE document @@ {FTS_QUERY[semantics]}"
    seconds: list[float] = []
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
        # Counting costs as much as searching: skipped at 1M to keep the run bounded.
        matches = [conn.execute(count_sql, (q,)).fetchone()[0] for q in queries] if count else []  # type: ignore[index]
        for q in queries[:3]:  # warm the cache
            conn.execute(sql, (q,)).fetchall()
        for _ in range(repeats):
            started = time.perf_counter()
            for q in queries:
                t = time.perf_counter()
                conn.execute(sql, (q,)).fetchall()
                seconds.append(time.perf_counter() - t)
            if time.perf_counter() - started > PASS_CAP_SECONDS:
                break  # slow enough to judge from one pass; keeps the 1M run bounded
    return seconds, matches


# --- tantivy fed from PostgreSQL --------------------------------------------------------------------

def tantivy_side(url: str, workdir: Path, sets: dict[str, list[str]], repeats: int) -> dict[str, object]:
    from dailypapers.search.keyword import KeywordIndex
    from dailypapers.search.query import parse_query
    from dailypapers.store.db import Database

    database = Database(url)
    index = KeywordIndex(workdir / "keyword")
    with database.session() as session:
        t = time.perf_counter()
        count = index.rebuild(session)
        build = time.perf_counter() - t
    database.dispose()
    out: dict[str, object] = {"build_seconds": round(build, 1), "documents": count,
                              "index_mib": round(sum(f.stat().st_size for f in (workdir / "keyword").rglob("*")
                                                     if f.is_file()) / 2**20)}
    for name, queries in sets.items():
        parsed = [parse_query(q) for q in queries]
        for p in parsed:
            index.search(p, limit=CANDIDATES)
        seconds = []
        for _ in range(repeats):
            for p in parsed:
                t = time.perf_counter()
                index.search(p, limit=CANDIDATES)
                seconds.append(time.perf_counter() - t)
        out[name] = _summary(seconds)
    return out


# --- one size (child process) ------------------------------------------------------------------------

def run_one(server: str, n: int, repeats: int, keep: bool) -> dict[str, object]:
    from sqlalchemy import create_engine, make_url, text

    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "bench"))
    from search_latency import QUERIES

    from dailypapers.store.db import Database

    name = f"dpbench_keyword_{n}"
    admin_url = make_url(server).set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    conninfo = _conninfo(url)
    workdir = Path(tempfile.mkdtemp(prefix=f"dp-pgkw-{n}-"))
    load_before = os.getloadavg()
    try:
        database = Database(url)
        database.migrate()
        database.dispose()
        print(f"  {n:,}: loading with COPY …", file=sys.stderr, flush=True)
        load = load_papers(conninfo, n)
        print(f"  {n:,}: {load}; building tsvector + GIN …", file=sys.stderr, flush=True)
        fts_build = build_fts(conninfo)
        sets = {"ordinary": QUERIES, "common_terms": COMMON}
        fts: dict[str, object] = {"build": fts_build}
        for semantics in ("and", "or"):
            for set_name, queries in sets.items():
                print(f"  {n:,}: timing FTS {semantics} {set_name} …", file=sys.stderr, flush=True)
                seconds, matches = time_fts(conninfo, queries, semantics, repeats, count=n <= 100_000)
                fts[f"{semantics}_{set_name}"] = {**_summary(seconds), **({
                    "median_matches": int(statistics.median(matches)), "max_matches": max(matches)}
                    if matches else {})}
        hostile, _ = time_fts(conninfo, HOSTILE, "or", 1, count=False)  # raises if any input is not a valid query
        fts["hostile_input"] = {**_summary(hostile), "errors": 0}
        print(f"  {n:,}: tantivy rebuild from PostgreSQL …", file=sys.stderr, flush=True)
        tantivy = tantivy_side(url, workdir, sets, repeats)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return {"papers": n, "real_papers": min(n, 11_027), "queries": {k: len(v) for k, v in sets.items()},
            "repeats": repeats, "candidates": CANDIDATES, "load": load, "postgres_fts": fts, "tantivy": tantivy,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in os.getloadavg()]}}


def machine(server: str) -> dict[str, object]:
    import psycopg

    model = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    with psycopg.connect(_conninfo(server)) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        settings = dict(conn.execute("SELECT name, setting FROM pg_settings WHERE name IN "
                                     "('shared_buffers', 'work_mem', 'fsync', 'max_parallel_workers_per_gather')"
                                     ).fetchall())
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(), "postgresql": version, "postgresql_settings": settings,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _line(label: str, s: dict[str, float]) -> str:
    extra = f"  (median matches {s['median_matches']:,})" if "median_matches" in s else ""
    return f"      {label:28} p50 {s['p50_ms']:8.2f} ms   p99 {s['p99_ms']:8.2f} ms{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="times each query is timed")
    parser.add_argument("--postgres-url", default=os.environ.get("DAILYPAPERS_TEST_POSTGRES_URL", ""))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.postgres_url:
        parser.error("--postgres-url (or DAILYPAPERS_TEST_POSTGRES_URL) is required")
    if args.one:
        print(json.dumps(run_one(args.postgres_url, args.one, args.repeats, args.keep)))
        return
    report: dict[str, object] = {
        "benchmark": "keyword search on PostgreSQL: full-text search vs tantivy fed from PostgreSQL",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine(args.postgres_url),
        "note": "2-core machine shared with other jobs; PostgreSQL runs on the same cores as the client.",
        "results": []}
    for n in args.sizes:
        print(f"{n:,} papers …", flush=True)
        cmd = [sys.executable, __file__, "--one", str(n), "--repeats", str(args.repeats),
               "--postgres-url", args.postgres_url] + (["--keep"] if args.keep else [])
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            report["results"].append({"papers": n, "error": f"exit {out.returncode}"})  # type: ignore[attr-defined]
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        report["results"].append(r)  # type: ignore[attr-defined]
        fts, tv = r["postgres_fts"], r["tantivy"]
        print(f"  load (COPY) {r['load']['copy_seconds']} s; PostgreSQL FTS build {fts['build']['build_seconds']} s "
              f"(tsvector {fts['build']['tsvector_seconds']} s + GIN {fts['build']['gin_seconds']} s, "
              f"{fts['build']['table_with_indexes_mib']} MiB); tantivy build from PostgreSQL "
              f"{tv['build_seconds']} s ({tv['index_mib']} MiB)")
        for key in ("and_ordinary", "and_common_terms", "or_ordinary", "or_common_terms"):
            print(_line(f"PostgreSQL FTS {key}", fts[key]))
        for key in ("ordinary", "common_terms"):
            print(_line(f"tantivy (OR) {key}", tv[key]))
        print(f"      load average {r['load_average']['before'][0]} → {r['load_average']['after'][0]}")
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
