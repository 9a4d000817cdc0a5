"""Import benchmark: papers/s and peak memory of ``import jsonl`` on real and synthetic data.

    .venv/bin/python bench/import.py                 # HF dataset + 100,000 synthetic papers
    .venv/bin/python bench/import.py --papers 20000  # a smaller synthetic file
    .venv/bin/python bench/import.py --profile       # also write a cProfile of the synthetic import
    .venv/bin/python bench/import.py --backend postgres --postgres-url postgresql://…  # or both
    .venv/bin/python bench/import.py --snapshot 1000000 # arXiv metadata snapshot mode (below)

Each import runs in a fresh child process on a fresh SQLite file (WAL, as served) or a fresh
PostgreSQL database (created on the server given by ``--postgres-url``, by default
``$DAILYPAPERS_TEST_POSTGRES_URL``, and dropped afterwards), so peak RSS
(``ru_maxrss``) belongs to that import alone; the child also reports its RSS before importing.
A second import of the same file measures the idempotent path (nothing changes). Figures are
printed and written with the dataset sizes and machine facts to ``bench/results/import.json``.
``--snapshot N`` measures ``import arxiv-snapshot`` instead: N records in the arXiv metadata
snapshot format are generated from the real HF records by ``bench/arxiv_snapshot.py`` (add
``--gzip`` for a .gz file) and imported the same way (fresh database, a second no-change run,
peak RSS of the importing process). The goal: 1,000,000 records in at most 3 minutes on the
2-core machine with a peak RSS of at most 500 MB.
Wall-clock figures depend on what else runs on the machine: the load average and the CPU
seconds of each import (less disturbed by other jobs; on PostgreSQL also those of the server
backends serving it) are recorded too.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from import_measure import ChildPeak, cpu_seconds, database_mib, rss_kib, server_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "import.json"


# --- synthetic data ------------------------------------------------------------------------------

def _words(rng: random.Random, n: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "tra", "sor", "vel", "qui", "den", "pha", "ro", "gen",
                 "ter", "bi", "lux", "mon", "sta", "cri", "an", "el", "op", "tim", "ul", "zer"]
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def write_synthetic(path: Path, papers: int, seed: int = 42) -> dict[str, float]:
    """Papers shaped like the HF dataset: ~1,200-char abstracts, ~6 authors from a pool, orgs on ~25%."""
    rng = random.Random(seed)
    vocab = _words(rng, 6000)
    names = _words(rng, 3000)
    authors = [f"{rng.choice(names).title()} {rng.choice(names).title()}" for _ in range(25_000)]
    orgs = [(f"{w.title()}AI{i}", f"{w.title()} AI Lab {i}") for i, w in enumerate(rng.sample(vocab, 400))]
    start = dt.date(2023, 1, 1)
    abstract_chars = author_count = with_org = 0
    with open(path, "w", encoding="utf-8") as out:
        for i in range(papers):
            month = i % 36
            arxiv_id = f"{23 + month // 12}{month % 12 + 1:02d}.{i // 36 + 1:05d}"
            target = max(300, int(rng.gauss(1200, 250)))
            words: list[str] = []
            length = 0
            while length < target:
                word = rng.choice(vocab)
                words.append(word)
                length += len(word) + 1
            abstract = " ".join(words).capitalize() + "."
            n_authors = max(1, min(40, int(rng.expovariate(1 / 5)) + 1))
            featured = start + dt.timedelta(days=rng.randrange(1000))
            org = rng.choice(orgs) if rng.random() < 0.25 else None
            record = {
                "arxiv_id": arxiv_id,
                "title": " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 14))).title(),
                "abstract": abstract,
                "authors": rng.sample(authors, n_authors),
                "published_at": f"{featured - dt.timedelta(days=rng.randint(0, 4))}T17:59:{i % 60:02d}",
                "featured_on": featured.isoformat(),
                "upvotes": int(rng.expovariate(1 / 12)),
                "organization": {"name": org[0], "fullname": org[1]} if org else None,
                "github_repo": f"https://github.com/{rng.choice(names)}/{rng.choice(vocab)}"
                if rng.random() < 0.3 else None,
                "num_comments": rng.randint(0, 3),
            }
            out.write(json.dumps(record) + "\n")
            abstract_chars += len(abstract)
            author_count += n_authors
            with_org += org is not None
    return {"papers": papers, "mean_abstract_chars": round(abstract_chars / papers),
            "mean_authors": round(author_count / papers, 2), "with_organization": with_org,
            "distinct_author_names": len(authors), "organizations": len(orgs)}


# --- one measured import (child process) ---------------------------------------------------------
# (what is measured of it: bench/import_measure.py)

def child(path: Path, db_url: str, profile: Path | None, kind: str = "jsonl") -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from dailypapers.services.imports import import_arxiv_snapshot, import_jsonl

    importer = import_arxiv_snapshot if kind == "snapshot" else import_jsonl
    from dailypapers.settings import Settings
    from dailypapers.store.db import Database

    reader = ChildPeak()
    settings = Settings(database_url=db_url, environment="development")
    database = Database(settings.database_url)
    database.migrate()
    runs = []
    for attempt in ("first", "again"):
        load_before = os.getloadavg()
        rss_before = rss_kib()
        cpu_before = cpu_seconds()
        server_before = server_cpu_seconds(db_url)
        started = time.perf_counter()
        with database.session() as session:
            if profile and attempt == "first":
                import cProfile

                profiler = cProfile.Profile()
                result = profiler.runcall(importer, db=session, paths=[path],
                                          batch_size=settings.import_batch_size)
                profiler.dump_stats(str(profile))
            else:
                result = importer(db=session, paths=[path], batch_size=settings.import_batch_size)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        server_after = server_cpu_seconds(db_url)
        server_cpu = None if server_after is None else round(server_after - (server_before or 0.0), 2)
        runs.append({"run": attempt, "seconds": round(seconds, 2), "created": result.created,
                     "updated": result.updated, "unchanged": result.unchanged,
                     "rejected": len(result.rejected), "papers_per_s": round(result.seen / seconds),
                     "cpu_seconds": round(cpu, 2), "server_cpu_seconds": server_cpu,
                     "rss_before_mib": round(rss_before / 1024, 1),
                     "load_average_before": [round(x, 2) for x in load_before],
                     "load_average_after": [round(x, 2) for x in os.getloadavg()]})
    size = database_mib(database)
    database.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    reader_peak = reader.stop()  # the snapshot import's reader process (0 for other imports)
    print(json.dumps({"runs": runs, "peak_rss_mib": round(peak / 1024, 1),
                      "reader_peak_rss_mib": round(reader_peak / 1024, 1),
                      "peak_rss_total_mib": round((peak + reader_peak) / 1024, 1), "db_mib": size}))


def _postgres_admin(server: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, make_url

    url = make_url(server).set(drivername="postgresql+psycopg", database="postgres")
    return url, create_engine(url, isolation_level="AUTOCOMMIT")


def measure(path: Path, workdir: Path, backend: str, postgres_url: str,
            profile: Path | None = None, kind: str = "jsonl") -> dict[str, object]:
    from sqlalchemy import text

    name = f"dpbench_import_{os.getpid()}"
    if backend == "sqlite":
        db_url = f"sqlite:///{workdir / f'{path.stem}.db'}"
    else:
        server, admin = _postgres_admin(postgres_url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        db_url = server.set(database=name).render_as_string(hide_password=False)
    args = [sys.executable, __file__, "--child", str(path), db_url, "--child-kind", kind]
    if profile:
        args += ["--profile-to", str(profile)]
    try:
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    finally:
        if backend == "postgres":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return json.loads(out.strip().splitlines()[-1])


# --- machine facts and main ----------------------------------------------------------------------

def machine() -> dict[str, object]:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    mem_kib = 0
    with contextlib.suppress(OSError, StopIteration):
        mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal"))
    import sqlalchemy

    return {"cpu_count": os.cpu_count(), "cpu_model": model, "ram_gib": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__, "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _count_lines(path: Path, *, gz: bool) -> int:
    with gzip.open(path) if gz else path.open("rb") as fh:
        return sum(1 for _ in fh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000, help="synthetic papers to generate")
    parser.add_argument("--skip-hf", action="store_true", help="do not import the shared HF dataset")
    parser.add_argument("--profile", action="store_true", help="write bench/results/import_synthetic.prof")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"],
                        help="database engine(s) to import into (each dataset on each)")
    parser.add_argument("--postgres-url", default=os.environ.get("DAILYPAPERS_TEST_POSTGRES_URL", ""),
                        help="a PostgreSQL server (superuser) where fresh databases are created")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-kind", default="jsonl", help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", type=int, metavar="N",
                        help="measure import arxiv-snapshot on N generated snapshot records instead")
    parser.add_argument("--gzip", action="store_true", help="with --snapshot: a .gz snapshot")
    parser.add_argument("--snapshot-file", type=Path,
                        help="with --snapshot: reuse (or keep) the generated file at this path")
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.profile_to, args.child_kind)
        return
    if args.snapshot:
        snapshot_main(args)
        return
    if "postgres" in args.backend and not args.postgres_url:
        parser.error("--backend postgres needs --postgres-url (or DAILYPAPERS_TEST_POSTGRES_URL)")

    report: dict[str, object] = {
        "benchmark": "dailypapers import jsonl",
        "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "note": "2-core machine shared with other jobs while measured: wall-clock figures are noisy; "
                "see load_average_at_start.",
        "datasets": [],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dailypapers-bench-") as tmp:
        work = Path(tmp)
        datasets: list[tuple[str, Path, dict[str, object]]] = []
        if not args.skip_hf:
            if HF_JSONL.exists():
                lines = HF_JSONL.read_bytes().count(b"\n")
                datasets.append(("hf_daily_papers.jsonl", HF_JSONL, {"papers": lines}))
            else:
                print(f"skipping the HF dataset: {HF_JSONL} not found", file=sys.stderr)
        synthetic = work / f"synthetic_{args.papers}.jsonl"
        started = time.perf_counter()
        shape = write_synthetic(synthetic, args.papers)
        print(f"generated {args.papers:,} synthetic papers in {time.perf_counter() - started:.1f} s")
        datasets.append((synthetic.name, synthetic, shape))
        for name, path, shape in datasets:
            for backend in args.backend:
                prof_name = "import_synthetic.prof" if backend == "sqlite" else f"import_synthetic_{backend}.prof"
                profile = args.out.parent / prof_name if args.profile and path == synthetic else None
                figures = measure(path, work, backend, args.postgres_url, profile)
                entry = {"dataset": name, "backend": backend, "file_mib": round(path.stat().st_size / 2**20, 1),
                         **shape, **figures}
                report["datasets"].append(entry)  # type: ignore[union-attr]
                first, again = figures["runs"]  # type: ignore[misc]
                print(f"{name} on {backend}: {first['created']:,} papers in {first['seconds']} s = "
                      f"{first['papers_per_s']:,} papers/s "
                      f"({first['cpu_seconds']} s CPU"
                      + (f" + {first['server_cpu_seconds']} s server CPU" if first["server_cpu_seconds"] is not None
                         else "") + "); "
                      f"re-import (no changes) {again['seconds']} s = {again['papers_per_s']:,} papers/s; "
                      f"peak RSS {figures['peak_rss_mib']} MiB; database {figures['db_mib']} MiB")
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


def snapshot_main(args: argparse.Namespace) -> None:
    from arxiv_snapshot import write_snapshot  # bench/ is on sys.path when run as a script

    out = args.out if args.out != RESULTS else RESULTS.with_name("import_snapshot.json")
    report: dict[str, object] = {
        "benchmark": "dailypapers import arxiv-snapshot",
        "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "goal": "1,000,000 records <= 180 s wall clock, peak RSS <= 500 MB",
        "note": "2-core machine shared with other jobs while measured: see load_average_at_start/_end.",
        "datasets": [],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dailypapers-bench-") as tmp:
        work = Path(tmp)
        path = args.snapshot_file or work / (f"snapshot_{args.snapshot}.jsonl" + (".gz" if args.gzip else ""))
        if path.exists() and _count_lines(path, gz=args.gzip) == args.snapshot:
            shape: dict[str, object] = {"records": args.snapshot, "gzip": args.gzip, "reused_file": True}
        else:
            started = time.perf_counter()
            shape = write_snapshot(path, args.snapshot, gzipped=args.gzip)
            print(f"generated {args.snapshot:,} snapshot records in {time.perf_counter() - started:.1f} s")
        for backend in args.backend:
            profile = (out.parent / f"import_snapshot_{backend}.prof") if args.profile else None
            figures = measure(path, work, backend, args.postgres_url, profile, kind="snapshot")
            entry = {"dataset": path.name, "backend": backend, "file_mib": round(path.stat().st_size / 2**20, 1),
                     **shape, **figures}
            report["datasets"].append(entry)  # type: ignore[union-attr]
            first, again = figures["runs"]  # type: ignore[misc]
            print(f"snapshot on {backend}: {first['created']:,} papers in {first['seconds']} s = "
                  f"{first['papers_per_s']:,} papers/s ({first['cpu_seconds']} s CPU of both processes"
                  + (f" + {first['server_cpu_seconds']} s server CPU" if first["server_cpu_seconds"] is not None
                     else "") + f"; load average {first['load_average_before'][0]} → "
                  f"{first['load_average_after'][0]}); re-import {again['seconds']} s "
                  f"({again['cpu_seconds']} s CPU); peak RSS {figures['peak_rss_mib']} MiB + reader "
                  f"{figures['reader_peak_rss_mib']} MiB; database {figures['db_mib']} MiB")
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
