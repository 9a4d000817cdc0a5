"""Web benchmark: requests/s and p50/p99 latency of the daily page, a paper page and
/api/daily_papers, with the 11,027 real papers of ../shared/data/hf_daily_papers.jsonl loaded,
served by ``dailypapers serve --workers N`` on loopback.

    .venv/bin/python bench/web.py                       # 1 and 2 workers, cache on and off
    .venv/bin/python bench/web.py --seconds 5 --workers 2 --modes cached

The load comes from ``wrk`` (Debian package ``wrk``) when it is installed, else from an asyncio
httpx loop in a separate process. Either way the load generator runs on the same machine as the
server, so it takes CPU from it: the figures are a floor. "cached" is the default configuration
(``DAILYPAPERS_PAGE_CACHE_SECONDS=5``); "uncached" (0) renders every request, showing the cost of
the queries and templates (and of what other features add to a page, such as similar papers).
The first requests to each worker are sent one by one and waited for, so one-time work
(building the search index of a fresh data directory) is not measured. Results, with dataset size
and machine facts (load average included: this machine is shared), go to ``bench/results/web.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "web.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(db_path: Path) -> dict[str, object]:
    """Import the dataset (once per database file) and pick the URLs to load."""
    env = {**os.environ, "DAILYPAPERS_DATABASE_URL": f"sqlite:///{db_path}"}
    if not db_path.exists():
        subprocess.run([sys.executable, "-m", "dailypapers", "import", "jsonl", str(HF_JSONL)],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    con = sqlite3.connect(db_path)
    papers = con.execute("select count(*) from papers").fetchone()[0]
    day, count = con.execute("select day, count(*) from daily_entries group by day "
                             "order by day desc limit 1").fetchone()
    top = con.execute("select p.key from papers p join daily_entries d on d.paper_id = p.id "
                      "where d.day = ? order by p.upvotes desc limit 1", (day,)).fetchone()[0]
    con.close()
    return {"papers": papers, "latest_day": day, "papers_on_latest_day": count,
            "urls": {"daily page": f"/papers/date/{day}", "paper page": f"/papers/{top}",
                     "/api/daily_papers": "/api/daily_papers"}}


class Server:
    """``dailypapers serve`` on the SQLite file ``db_path``, or on ``database_url`` when given
    (``db_path``'s folder then only holds the data directory); ``env`` adds settings."""

    def __init__(self, db_path: Path, workers: int, cache_seconds: float, database_url: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extra = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        env.update(DAILYPAPERS_DATABASE_URL=database_url or f"sqlite:///{db_path}", DAILYPAPERS_LOAD_SAMPLE="false",
                   DAILYPAPERS_ENVIRONMENT="production", DAILYPAPERS_SECRET_KEY="bench-" + os.urandom(8).hex(),
                   DAILYPAPERS_PAGE_CACHE_SECONDS=str(cache_seconds), DAILYPAPERS_BASE_URL=self.url,
                   DAILYPAPERS_DATA_DIR=str(db_path.parent / "var"))
        env.update(extra)  # may override the defaults above (a known secret key, say)
        # Logs go to a file: a pipe nobody reads fills up and then blocks the server (the console
        # mailer prints every mail, the error log every 503).
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dailypapers", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        import httpx

        deadline = time.monotonic() + 180  # a busy machine starts slowly
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

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s))\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests_per_s": rps, "p50_ms": _ms(latency["50"]), "p99_ms": _ms(latency["99"]),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


async def _httpx_load(url: str, seconds: int, connections: int) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    bad = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal bad
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                bad += response.status_code != 200
        begin = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - begin
    latencies.sort()
    return {"requests_per_s": len(latencies) / elapsed, "p50_ms": latencies[len(latencies) // 2],
            "p99_ms": latencies[int(len(latencies) * 0.99)], "non_2xx": bad, "socket_errors": ""}


def load(url: str, seconds: int, connections: int) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(url, seconds, connections)
    # A separate process, so the client's Python does not share the server's interpreter.
    code = (f"import asyncio, json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            "from web import _httpx_load; "
            f"print(json.dumps(asyncio.run(_httpx_load({url!r}, {int(seconds)}, {int(connections)}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def warm_up(url: str, workers: int) -> None:
    """First requests of each worker may build per-process state (the search index behind a paper
    page's similar papers, template caches): wait for them, then warm the connections."""
    import httpx

    for _ in range(4 * workers):
        assert httpx.get(url, timeout=600).status_code == 200, url
    load(url, 2, 8)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="Seconds of load per measurement.")
    parser.add_argument("--connections", type=int, default=32, help="Concurrent connections.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Worker counts to measure.")
    parser.add_argument("--modes", nargs="+", choices=["cached", "uncached"], default=["cached", "uncached"],
                        help="cached: the default 5 s page cache; uncached: every request rendered.")
    parser.add_argument("--db", type=Path, help="Reuse this database file (imported if missing).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db or Path(tmp) / "bench.db"
        dataset = prepare(db_path)
        report: dict[str, object] = {
            "benchmark": "web", "dataset": {k: v for k, v in dataset.items() if k != "urls"},
            "urls": dataset["urls"], "seconds": args.seconds, "connections": args.connections,
            "machine": machine(), "results": [],
            "note": "2-core machine shared with other jobs, and the load generator runs on the same "
                    "cores as the server: figures are noisy and a floor.",
        }
        modes = [(mode, 5.0 if mode == "cached" else 0.0) for mode in args.modes]
        for mode, cache_seconds in modes:
            for workers in args.workers:
                with Server(db_path, workers, cache_seconds) as server:
                    for name, path in dataset["urls"].items():  # type: ignore[attr-defined]
                        warm_up(server.url + path, workers)
                        result = load(server.url + path, args.seconds, args.connections)
                        row = {"mode": mode, "workers": workers, "endpoint": name, **result}
                        report["results"].append(row)  # type: ignore[attr-defined]
                        print(f"{mode:9} workers={workers} {name:18} {result['requests_per_s']:8.0f} req/s  "
                              f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms"
                              + (f"  non-2xx {result['non_2xx']}" if result["non_2xx"] else ""), flush=True)
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"dataset: {dataset['papers']} papers; latest day {dataset['latest_day']} "
          f"({dataset['papers_on_latest_day']} papers). Written to {RESULTS.relative_to(ROOT)}")
    print(report["note"])


if __name__ == "__main__":
    main()
