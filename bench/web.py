"""Web benchmark: requests/s and p50/p99 latency of the daily page, a 100-card page, a paper
page with similar papers and /api/daily_papers, with the 11,027 real papers of
../shared/data/hf_daily_papers.jsonl loaded, served by ``dailypapers serve --workers N`` on
loopback.

    .venv/bin/python bench/web.py --baseline main~5           # old vs new, the table of docs/site.md
    .venv/bin/python bench/web.py --workers 2 --modes signed-in --seconds 5

Modes: "cached" is the default configuration (``DAILYPAPERS_PAGE_CACHE_SECONDS=5``); "uncached"
(0) renders every request; "signed-in" is uncached too and sends a real session cookie (a member
who upvoted some of the papers shown, so every card has a vote form and the votes are loaded),
which is what every signed-in reader costs whatever the cache says. ``--encoding gzip`` adds
``Accept-Encoding: gzip`` to every request (browsers send it).

``--baseline REF`` also serves the same database with the code of git ref REF (a temporary
worktree, its ``src`` first on PYTHONPATH) and measures old and new one after the other for each
page, so both see the same load; the table printed at the end has both columns. The database is
imported and migrated with REF's code (the newer server migrates it forward when it starts; an
older one would refuse revisions it does not know).

Every row also has the CPU time (user + system) the server processes (``serve`` and its workers)
spent per request answered: req/s on a shared machine depends on what else runs, CPU per request
much less.

The load comes from ``wrk`` (Debian package ``wrk``) when it is installed, else from an asyncio
httpx loop in a separate process. Either way the load generator runs on the same machine as the
server, so it takes CPU from it: the figures are a floor. The first requests to each worker are
sent one by one and waited for, so one-time work (building the search index of a fresh data
directory) is not measured. Results, with dataset size and machine facts (load average included:
this machine is shared), go to ``bench/results/web.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from web_load import load, warm_up  # the load generator (bench/web_load.py)

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "web.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _code_env(source: Path | None) -> dict[str, str]:
    """The environment of a command run with the code of ``source`` (a checkout) when given."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source / "src"), env.get("PYTHONPATH", "")])
    return env


def prepare(db_path: Path, source: Path | None = None) -> dict[str, object]:
    """Import the dataset (once per database file), make the signed-in member, pick the URLs.

    ``source``: the checkout whose code imports and migrates (the baseline's, with --baseline:
    the newer code's server migrates the database forward when it starts, while an older
    server refuses a database that has revisions it does not know)."""
    # The import's search index goes next to the database, not into ./var of whatever folder this
    # runs from.
    env = {**_code_env(source), "DAILYPAPERS_DATABASE_URL": f"sqlite:///{db_path}",
           "DAILYPAPERS_DATA_DIR": str(db_path.parent / "var-import")}
    if not db_path.exists():
        subprocess.run([sys.executable, "-m", "dailypapers", "import", "jsonl", str(HF_JSONL)],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    con = sqlite3.connect(db_path)
    papers = con.execute("select count(*) from papers").fetchone()[0]
    day, count = con.execute("select day, count(*) from daily_entries group by day "
                             "order by day desc limit 1").fetchone()
    top = con.execute("select p.key from papers p join daily_entries d on d.paper_id = p.id "
                      "where d.day = ? order by p.upvotes desc limit 1", (day,)).fetchone()[0]
    # The ISO week with the most papers: its first page holds 100 cards (no day has 100).
    weeks: dict[str, int] = {}
    for (value,) in con.execute("select day from daily_entries"):
        year, week, _ = dt.date.fromisoformat(value).isocalendar()
        weeks[f"{year}-W{week:02d}"] = weeks.get(f"{year}-W{week:02d}", 0) + 1
    busiest = max(weeks, key=lambda w: weeks[w])
    shown = [key for (key,) in con.execute(
        "select p.key from papers p join daily_entries d on d.paper_id = p.id where d.day = ? "
        "order by p.upvotes desc", (day,))]
    con.close()
    return {"papers": papers, "latest_day": day, "papers_on_latest_day": count,
            "busiest_week": busiest, "papers_in_busiest_week": weeks[busiest],
            "cookie": member_session(db_path, shown[::3], source),
            "urls": {"daily page (17 cards)" if count == 17 else f"daily page ({count} cards)": f"/papers/date/{day}",
                     "week page (100 cards)": f"/papers/week/{busiest}",
                     "paper page": f"/papers/{top}",
                     "/api/daily_papers": "/api/daily_papers"}}


def member_session(db_path: Path, upvoted: list[str], source: Path | None = None) -> str:
    """A member who upvoted ``upvoted``, signed in: the value of the session cookie."""
    code = """
import sys
from dailypapers.services import accounts, sessions, votes
from dailypapers.store import Role, User
from dailypapers.store.db import Database
from sqlalchemy import select
database = Database(sys.argv[1])
database.migrate()
with database.session() as db:
    user = db.scalar(select(User).where(User.username == "benchreader"))
    if user is None:
        user = accounts.sign_up(db=db, role=Role.MEMBER, username="benchreader",
                                email="bench@example.org", password="correct horse battery",
                                display_name="Bench Reader")
        db.commit()
        for key in sys.argv[2:]:
            votes.upvote(db=db, user_id=user.id, paper_key=key)
        db.commit()
    token = sessions.start_session(db=db, user_id=user.id, days=1)
    db.commit()
    print(token)
"""
    out = subprocess.run([sys.executable, "-c", code, f"sqlite:///{db_path}", *upvoted],
                         capture_output=True, text=True, check=True,
                         env={**_code_env(source), "DAILYPAPERS_SECRET_KEY": "bench-" + "0" * 32}).stdout
    return out.strip().splitlines()[-1]


class Server:
    """``dailypapers serve`` on the SQLite file ``db_path``, or on ``database_url`` when given
    (``db_path``'s folder then only holds the data directory); ``env`` adds settings."""

    def __init__(self, db_path: Path, workers: int, cache_seconds: float, database_url: str | None = None,
                 env: dict[str, str] | None = None, source: Path | None = None, name: str = "var") -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extra = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        env.update(DAILYPAPERS_DATABASE_URL=database_url or f"sqlite:///{db_path}", DAILYPAPERS_LOAD_SAMPLE="false",
                   DAILYPAPERS_ENVIRONMENT="production", DAILYPAPERS_SECRET_KEY="bench-" + os.urandom(16).hex(),
                   DAILYPAPERS_PAGE_CACHE_SECONDS=str(cache_seconds), DAILYPAPERS_BASE_URL=self.url,
                   DAILYPAPERS_DATA_DIR=str(db_path.parent / name))
        env.update(extra)  # may override the defaults above (a known secret key, say)
        if source is not None:  # another checkout's code (--baseline)
            env["PYTHONPATH"] = os.pathsep.join([str(source / "src"), env.get("PYTHONPATH", "")])
        # Logs go to a file: a pipe nobody reads fills up and then blocks the server (the console
        # mailer prints every mail, the error log every 503).
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dailypapers", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        import httpx

        deadline = time.monotonic() + 600  # serve indexes the papers first: minutes on a busy machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of ``serve`` and every process under it (its workers)."""
        import psutil

        total = 0.0
        root = psutil.Process(self.proc.pid)
        for proc in (root, *root.children(recursive=True)):
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def log_tail(self, lines: int = 40) -> str:
        self.log.seek(0)
        return "\n".join(self.log.read().decode(errors="replace").splitlines()[-lines:])

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def machine() -> dict[str, object]:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(), "sqlite": sqlite3.sqlite_version,
            "load_generator": "wrk" if shutil.which("wrk") else "httpx (asyncio, separate process)",
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def baseline_checkout(ref: str, where: Path) -> tuple[Path, str]:
    """A detached worktree of ``ref`` (removed by the caller); returns it and the commit."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], capture_output=True,
                            text=True, check=True).stdout.strip()
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit],
                   check=True, capture_output=True)
    return where, commit


MODES = {"cached": 5.0, "uncached": 0.0, "signed-in": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="Seconds of load per measurement.")
    parser.add_argument("--connections", type=int, default=32, help="Concurrent connections.")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="Worker counts to measure.")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=["signed-in", "uncached"],
                        help="cached: the default 5 s page cache; uncached: every request rendered; "
                             "signed-in: uncached with a member's session cookie.")
    parser.add_argument("--baseline", metavar="REF", help="Also measure the code of this git ref (old vs new).")
    parser.add_argument("--encoding", choices=["identity", "gzip", "br"], default="identity",
                        help="Accept-Encoding of the requests.")
    parser.add_argument("--only", nargs="+", help="Measure only the pages whose names contain one of these words.")
    parser.add_argument("--db", type=Path, help="Reuse this database file (imported if missing).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db or Path(tmp) / "bench.db"
        baseline: tuple[Path, str] | None = None
        if args.baseline:
            baseline = baseline_checkout(args.baseline, Path(tmp) / "baseline")
        dataset = prepare(db_path, baseline[0] if baseline else None)
        urls = {name: path for name, path in dataset["urls"].items()  # type: ignore[attr-defined]
                if not args.only or any(word in name for word in args.only)}
        versions: list[tuple[str, Path | None]] = []
        if baseline is not None:
            source, commit = baseline
            versions.append((f"{args.baseline} ({commit})", source))
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        versions.append((f"this checkout ({head})", ROOT))
        report: dict[str, object] = {
            "benchmark": "web", "dataset": {k: v for k, v in dataset.items() if k not in {"urls", "cookie"}},
            "urls": urls, "seconds": args.seconds, "connections": args.connections,
            "encoding": args.encoding, "versions": [name for name, _ in versions],
            "machine": machine(), "results": [],
            "note": "2-core machine shared with other jobs, and the load generator runs on the same "
                    "cores as the server: figures are noisy and a floor.",
        }
        try:
            for mode in args.modes:
                headers = {} if args.encoding == "identity" else {"Accept-Encoding": args.encoding}
                if mode == "signed-in":
                    headers["Cookie"] = f"dp_session={dataset['cookie']}"
                for workers in args.workers:
                    servers: list[Server] = []
                    try:
                        # One after the other: the baseline's server must have started (and checked
                        # the schema) before the newer one migrates the database forward.
                        for i, (_, source) in enumerate(versions):
                            servers.append(Server(db_path, workers, MODES[mode], source=source, name=f"var-{i}"))
                            servers[-1].__enter__()
                        for name, path in urls.items():
                            for (version, _), server in zip(versions, servers, strict=True):
                                try:
                                    warm_up(server.url + path, workers, headers)
                                    cpu_before = server.cpu_seconds()
                                    result = load(server.url + path, args.seconds, args.connections, headers)
                                    cpu = server.cpu_seconds() - cpu_before
                                except Exception:
                                    print(f"{version} failed on {path}; its log ends:\n{server.log_tail()}")
                                    raise
                                row = {"mode": mode, "workers": workers, "endpoint": name, "version": version,
                                       "load_average": [round(x, 2) for x in os.getloadavg()], **result,
                                       "server_cpu_ms_per_request": round(1000 * cpu / max(1, result["requests"]), 2)}
                                report["results"].append(row)  # type: ignore[attr-defined]
                                print(f"{mode:9} workers={workers} {name:22} {version[:24]:24} "
                                      f"{result['requests_per_s']:8.0f} req/s  p50 {result['p50_ms']:7.2f} ms  "
                                      f"p99 {result['p99_ms']:7.2f} ms  "
                                      f"CPU {row['server_cpu_ms_per_request']:6.2f} ms/req"
                                      + (f"  non-2xx {result['non_2xx']}" if result["non_2xx"] else ""), flush=True)
                    finally:
                        for server in servers:
                            server.__exit__()
        finally:
            if args.baseline:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(Path(tmp) / "baseline")], check=False, capture_output=True)
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"dataset: {dataset['papers']} papers; latest day {dataset['latest_day']} "
          f"({dataset['papers_on_latest_day']} papers); busiest week {dataset['busiest_week']}. "
          f"Written to {RESULTS.relative_to(ROOT)}")
    print(report["note"], "Load average at start/end:", report["machine"]["load_average_at_start"],  # type: ignore[index]
          report["machine"]["load_average_at_end"])  # type: ignore[index]


def print_table(report: dict[str, object]) -> None:
    """Markdown: one row per mode, workers and page; one column per version (req/s, p50/p99)."""
    versions: list[str] = report["versions"]  # type: ignore[assignment]
    rows: dict[tuple[str, int, str], dict[str, dict[str, float]]] = {}
    for r in report["results"]:  # type: ignore[attr-defined]
        rows.setdefault((r["mode"], r["workers"], r["endpoint"]), {})[r["version"]] = r
    print()
    print("| mode | workers | page | " + " | ".join(versions) + (" | ratio |" if len(versions) == 2 else " |"))
    print("|---|---|---|" + "---|" * (len(versions) + (len(versions) == 2)))
    for (mode, workers, page), by_version in rows.items():
        cells = [f"{by_version[v]['requests_per_s']:,.0f} req/s ({by_version[v]['p50_ms']:.1f} / "
                 f"{by_version[v]['p99_ms']:.0f} ms; "
                 f"CPU {by_version[v].get('server_cpu_ms_per_request', 0):.2f} ms/req)"
                 if v in by_version else "" for v in versions]
        ratio = ""
        if len(versions) == 2 and all(v in by_version for v in versions) \
                and by_version[versions[0]]["requests_per_s"] > 0:
            ratio = f" | ×{by_version[versions[1]]['requests_per_s'] / by_version[versions[0]]['requests_per_s']:.1f}"
        print(f"| {mode} | {workers} | {page} | " + " | ".join(cells) + ratio + " |")


if __name__ == "__main__":
    main()
