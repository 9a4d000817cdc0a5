"""Digest benchmark: compose and send 10,000 personalized digests (3 topics each) to a local
aiosmtpd server; mails/s and peak memory of the sending process.

    .venv/bin/python bench/digest.py                      # 10,000 subscribers, keyword topics
    .venv/bin/python bench/digest.py --subscribers 2000   # smaller
    .venv/bin/python bench/digest.py --semantic           # hybrid topics (embeds the catalog first)

The catalog is the 11,027 real papers of ../shared/data/hf_daily_papers.jsonl; the period is the
newest featured day. Each subscriber gets its own number of trending papers (5–15) and 3 topics
drawn from a pool of 40 real research topics, so each digest differs. Topic searches go through
the hybrid search service; by default with ``search_semantic=false`` (BM25 only) because
embedding 11k abstracts on this CPU takes minutes; ``--semantic`` embeds them first.

The SMTP server runs in its own process (so it does not share the sender's interpreter) and
counts what it accepts; the sender is ``dailypapers digest send`` in a child process that
reports its own wall time and peak RSS (``ru_maxrss``). Figures, with dataset size and machine
facts (load average included: this 2-core machine is shared with other jobs, so wall-clock
figures are noisy), go to ``bench/results/digest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
import contextlib

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "digest.json"
TOPICS = [
    "diffusion models", "large language models", "reinforcement learning", "video generation",
    "retrieval augmented generation", "mixture of experts", "speech recognition", "agents",
    "code generation", "image editing", "3D reconstruction", "gaussian splatting", "robotics",
    "multimodal reasoning", "mathematical reasoning", "preference optimization", "quantization",
    "long context", "text to speech", "vision language models", "benchmark", "safety alignment",
    "knowledge distillation", "tokenizer", "state space models", "world models", "chain of thought",
    "medical imaging", "protein design", "autonomous driving", "video understanding",
    "instruction tuning", "synthetic data", "hallucination", "embodied navigation",
    "sparse attention", "graph neural networks", "music generation", "OCR document understanding",
    "time series forecasting",
]

SINK = r"""
import sys
from aiosmtpd.controller import Controller

class Counter:
    mails = 0
    octets = 0
    async def handle_DATA(self, server, session, envelope):
        Counter.mails += 1
        Counter.octets += len(envelope.content)
        return "250 OK"

controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(Counter.mails, Counter.octets, flush=True)
"""

SENDER = r"""
import json, resource, sys, time
from dailypapers.mail.session import session_from_settings
from dailypapers.services import outbox
from dailypapers.services.digests import DigestPeriod
from dailypapers.settings import Settings
from dailypapers.store.db import Database

settings = Settings()
database = Database(settings.database_url)
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
with database.session() as db:
    summary = outbox.send_digests(db=db, settings=settings, mail=session_from_settings(settings),
                                  period=DigestPeriod.parse(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "summary": summary.line(), "sent": summary.sent,
                  "error": summary.error, "rss_before_mib": rss_before / 1024,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, object]:
    model = platform.processor()
    with contextlib.suppress(OSError, StopIteration):
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    return {"cpu_count": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def prepare(db_path: Path, env: dict[str, str], subscribers: int, semantic: bool) -> dict[str, object]:
    subprocess.run([sys.executable, "-m", "dailypapers", "import", "jsonl", str(HF_JSONL)],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if semantic:
        subprocess.run([sys.executable, "-m", "dailypapers", "embed"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    con = sqlite3.connect(db_path)
    con.executemany(
        "insert into subscriptions (email, email_key, cadence, weekday, send_hour, timezone, "
        "num_papers, topics, token_nonce, failure_count, confirmed_at, created_at, updated_at) "
        "values (?, ?, 'daily', 0, 8, 'UTC', ?, ?, ?, 0, ?, ?, ?)",
        [(f"reader{i}@example.org", f"reader{i}@example.org", rng.randint(5, 15),
          json.dumps(rng.sample(TOPICS, 3)), secrets.token_hex(16), now, now, now)
         for i in range(subscribers)])
    con.commit()
    papers = con.execute("select count(*) from papers").fetchone()[0]
    day = con.execute("select max(day) from daily_entries").fetchone()[0]
    con.close()
    return {"papers": papers, "period": f"daily:{day}", "subscribers": subscribers,
            "topics_per_subscriber": 3, "topic_pool": len(TOPICS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000, help="digests to send")
    parser.add_argument("--semantic", action="store_true",
                        help="embed the catalog and run topics as hybrid (BM25 + vectors) searches")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args()
    report: dict[str, object] = {
        "benchmark": "dailypapers digest send",
        "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "note": "2-core machine shared with ~5 other jobs while measured: wall-clock figures are "
                "noisy (see the load averages). SMTP server (aiosmtpd) in its own process on "
                "loopback; one SMTP connection per run; one SQLite commit per digest.",
    }
    with tempfile.TemporaryDirectory(prefix="dailypapers-digest-bench-") as tmp:
        work = Path(tmp)
        db_path = work / "bench.db"
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        env.update({"DAILYPAPERS_DATABASE_URL": f"sqlite:///{db_path}",
                    "DAILYPAPERS_DATA_DIR": str(work / "var"),
                    "DAILYPAPERS_SMTP_HOST": "127.0.0.1", "DAILYPAPERS_SMTP_PORT": str(port),
                    "DAILYPAPERS_SMTP_SECURITY": "none",
                    "DAILYPAPERS_MAIL_FROM": "Daily Papers <digest@example.org>",
                    "DAILYPAPERS_BASE_URL": "https://papers.example.org",
                    "DAILYPAPERS_SEARCH_SEMANTIC": "true" if args.semantic else "false"})
        started = time.perf_counter()
        dataset = prepare(db_path, env, args.subscribers, args.semantic)
        print(f"prepared {dataset['papers']:,} papers and {args.subscribers:,} subscribers in "
              f"{time.perf_counter() - started:.0f} s")
        sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        sender = subprocess.run([sys.executable, "-c", SENDER, str(dataset["period"])], env=env,
                                capture_output=True, text=True, check=True)
        figures = json.loads(sender.stdout.strip().splitlines()[-1])
        received, octets = map(int, sink.communicate("", timeout=60)[0].split())
    if figures["error"] or received != args.subscribers:
        raise SystemExit(f"bench failed: {figures['summary']} / {figures['error']}; "
                         f"server received {received}")
    report["dataset"] = {**dataset, "topic_search": "hybrid" if args.semantic else "keyword (BM25)"}
    report["results"] = {
        "mails": received,
        "seconds": round(figures["seconds"], 1),
        "mails_per_s": round(received / figures["seconds"], 1),
        "mean_mail_kib": round(octets / received / 1024, 1),
        "peak_rss_mib": round(figures["peak_rss_mib"], 1),
        "rss_before_run_mib": round(figures["rss_before_mib"], 1),
        "summary": figures["summary"],
    }
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    r = report["results"]
    print(f"{r['mails']:,} digests in {r['seconds']} s = {r['mails_per_s']} mails/s; "  # type: ignore[index]
          f"peak RSS {r['peak_rss_mib']} MiB; mean mail {r['mean_mail_kib']} KiB")  # type: ignore[index]
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
