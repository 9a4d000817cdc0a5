"""A write burst from a community: N distinct signed-in members act at the same moment against a
real ``dailypapers serve --workers 2`` while anonymous readers load day pages.

Modes: ``upvote`` (everyone upvotes one paper), ``comment`` (everyone comments on it),
``subscribe`` (everyone subscribes their own address), ``submit`` (half submit distinct papers of
the catalog that are not featured yet, half race for the two papers that only the local
recorded-arXiv server knows: one of each race wins, the rest get 409), and ``mixed`` (member i
does the (i mod 4)-th of those). Every member is a real account with a real login session and
CSRF token, made through the service functions (no HTTP sign-ups) in one transaction.

Reported, as JSON: responses 5xx (and time-outs), accepted writes found exactly once in the
database (lost = accepted but absent, doubled = present more than once, stray = present but not
accepted), write latency p50/p99, and the readers' p50/p99 over the requests that overlapped the
burst, with the dataset size, the machine and its load average.

    python bench/burst.py --backend sqlite --members 200 --mode all
    python bench/burst.py --backend postgres --members 200 --mode all   # URL: --postgres-url or
                                                  # DAILYPAPERS_TEST_POSTGRES_URL (docs/postgresql.md)

``tests/community/test_burst.py`` runs ``run_burst`` with 50 members on the test backend and
asserts 0 x 5xx and exact counts (no timing asserts).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from dailypapers.services import sessions  # noqa: E402
from dailypapers.services.accounts import hasher  # noqa: E402
from dailypapers.services.catalog_import import import_records  # noqa: E402
from dailypapers.sources.records import PaperRecord  # noqa: E402
from dailypapers.store import DailyEntry, Paper, User  # noqa: E402
from dailypapers.store.db import Database  # noqa: E402
from dailypapers.web.auth import COOKIE, csrf_for  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from burst_checks import (  # noqa: E402
    RECORDED_IDS,
    Member,
    Outcome,
    Targets,
    read_until_stdin_closes,
    comment_body,
    percentile,
    readers_running,
    verify,
)

MODES = ("upvote", "comment", "subscribe", "submit")
ALL_MODES = (*MODES, "mixed")
# shared/ sits beside the checkout (../shared); a git worktree elsewhere passes --dataset.
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results"
PASSWORD = "burst-member-password"


def make_members(database: Database, *, secret: str, count: int, prefix: str,
                 session_days: int = 30) -> list[Member]:
    """``count`` accounts with a login session each, in one transaction (one argon2 hash for
    all: hashing 200 passwords would take longer than the burst)."""
    digest = hasher().hash(PASSWORD)
    with database.session() as db, db.begin():
        users = [User(username=f"{prefix}{i}", username_key=f"{prefix}{i}".casefold(),
                      email=f"{prefix}{i}@burst.example", display_name="", password_hash=digest,
                      role="member") for i in range(count)]
        db.add_all(users)
        db.flush()
        members = []
        for i, user in enumerate(users):
            token = sessions.start_session(db=db, user_id=user.id, days=session_days)
            members.append(Member(i, user.id, user.username, user.email, token,
                                  csrf_for(secret, token)))
    return members


def make_targets(database: Database, *, count: int, prefix: str) -> Targets:
    """The paper everyone votes on and comments on (the newest featured day's top paper, or a new
    one), and ``count`` unfeatured catalog papers with arXiv ids for the submitters."""
    with database.session() as db:  # fresh ids on every run against the same database
        start = db.scalar(select(func.count()).select_from(Paper).where(Paper.arxiv_id.like("2612.%")))
    records = [PaperRecord(arxiv_id=f"2612.{(start or 0) + i:05d}",
                           title=f"Burst submission target {prefix} {i}",
                           abstract="A paper in the catalog that nobody featured yet.",
                           authors=["Burst Bench"], published_at=dt.datetime(2026, 11, 1))
               for i in range(count)]
    with database.session() as db:
        import_records(db=db, records=records)
        top = db.execute(select(Paper.key, Paper.id).join(DailyEntry, DailyEntry.paper_id == Paper.id)
                         .order_by(DailyEntry.day.desc(), Paper.upvotes.desc()).limit(1)).first()
        if top is None:
            import_records(db=db, records=[PaperRecord(
                arxiv_id="2611.99999", title="Burst target paper", abstract="Voted on by everyone.",
                authors=["Burst Bench"], published_at=dt.datetime(2026, 11, 1),
                featured_on=dt.date(2026, 11, 2))])
            top = db.execute(select(Paper.key, Paper.id).where(Paper.arxiv_id == "2611.99999")).first()
        assert top is not None
        days = [d.isoformat() for d in db.scalars(
            select(DailyEntry.day).group_by(DailyEntry.day).order_by(DailyEntry.day.desc()).limit(5))]
    return Targets(paper_key=top[0], paper_id=top[1],
                   catalog_ids=[r.arxiv_id for r in records if r.arxiv_id], days=days)


def plan(members: list[Member], mode: str) -> list[tuple[Member, str, int]]:
    """(member, action, how many members before them do the same action)."""
    actions = [MODES[m.index % len(MODES)] if mode == "mixed" else mode for m in members]
    seen: Counter[str] = Counter()
    out = []
    for m, action in zip(members, actions, strict=True):
        out.append((m, action, seen[action]))
        seen[action] += 1
    return out


def _submit_ref(ordinal: int, targets: Targets) -> str:
    """Even submitters submit a catalog paper of their own; odd ones race for a recorded paper."""
    if ordinal % 2 == 0:
        return targets.catalog_ids[ordinal // 2 % len(targets.catalog_ids)]
    return RECORDED_IDS[ordinal // 2 % len(RECORDED_IDS)]


async def _act(client: httpx.AsyncClient, member: Member, action: str, ordinal: int,
               targets: Targets, run: str, start: asyncio.Event) -> Outcome:
    headers = {"Cookie": f"{COOKIE}={member.token}"}
    if action == "upvote":
        target, path = targets.paper_key, f"/papers/{targets.paper_key}/upvote"
        data = {"csrf_token": member.csrf}
    elif action == "comment":
        target, path = targets.paper_key, f"/papers/{targets.paper_key}/comments"
        data = {"csrf_token": member.csrf, "body": comment_body(run, member)}
    elif action == "subscribe":
        target, path, data = member.email, "/subscribe", {"email": member.email}
    else:
        target, path = _submit_ref(ordinal, targets), "/submit"
        data = {"csrf_token": member.csrf, "ref": target}
    await start.wait()
    began = time.perf_counter()
    try:
        response = await client.post(path, data=data, headers=headers)
        status = response.status_code
    except httpx.TimeoutException:
        status = 0
    return Outcome(member, action, target, status, (time.perf_counter() - began) * 1000)


async def _burst(base_url: str, work: list[tuple[Member, str, int]], targets: Targets, run: str,
                 timeout: float) -> list[Outcome]:
    limits = httpx.Limits(max_connections=len(work) + 10, max_keepalive_connections=len(work) + 10)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        start = asyncio.Event()
        tasks = [asyncio.create_task(_act(client, m, action, ordinal, targets, run, start))
                 for m, action, ordinal in work]
        await asyncio.sleep(0.2)  # every request built and waiting: then all go at once
        start.set()
        return list(await asyncio.gather(*tasks))


def run_burst(*, base_url: str, database: Database, secret: str, members: int, mode: str,
              readers: int = 8, timeout: float = 120.0, prefix: str | None = None) -> dict[str, Any]:
    """Make the members and targets, run one burst with readers, verify; the report as a dict."""
    run = prefix or f"b{os.getpid()}x{int(time.time()) % 100000}"
    targets = make_targets(database, count=members, prefix=run)
    crowd = make_members(database, secret=secret, count=members, prefix=f"{run}m")
    with database.session() as db:
        paper = db.get(Paper, targets.paper_id)
        assert paper is not None
        before = {"upvotes": paper.upvotes, "num_comments": paper.num_comments}
    work = plan(crowd, mode)
    paths = [f"/papers/date/{day}" for day in targets.days] or ["/"]
    with readers_running(base_url, paths, readers) as reads:
        t0 = time.time()
        outcomes = asyncio.run(_burst(base_url, work, targets, run, timeout))
        t1 = time.time()
    during = [(ms, status) for wall, ms, status in reads if t0 <= wall <= t1]
    statuses = Counter(o.status for o in outcomes)
    write_ms = [o.ms for o in outcomes]
    return {
        "mode": mode,
        "members": members,
        "burst_seconds": round(t1 - t0, 2),
        "writes": {
            "sent": len(outcomes),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "by_action": {a: dict(Counter(str(o.status) for o in outcomes if o.action == a))
                          for a in MODES if any(o.action == a for o in outcomes)},
            "5xx": sum(v for k, v in statuses.items() if k >= 500),
            "timeouts": statuses.get(0, 0),
            "p50_ms": percentile(write_ms, 0.50),
            "p99_ms": percentile(write_ms, 0.99),
        },
        "database": verify(database, outcomes, targets, run, before),
        "readers": {
            "concurrent": readers,
            "requests_during_burst": len(during),
            "5xx": sum(1 for _, s in during if s >= 500 or s == 0),
            "p50_ms": percentile([ms for ms, _ in during], 0.50),
            "p99_ms": percentile([ms for ms, _ in during], 0.99),
        },
    }


# -- the command line: a server on a fresh database of each backend ----------------------------

def _machine() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    import web  # bench/web.py: machine facts

    facts = web.machine()
    facts.pop("load_generator", None)
    facts["load_generator"] = "httpx asyncio (writers) + a separate process of asyncio readers"
    return facts  # type: ignore[no-any-return]


@contextmanager
def fresh_database(backend: str, workdir: Path, postgres_url: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'burst.db'}"
        return
    from sqlalchemy import create_engine, make_url, text

    admin_url = postgres_url or os.environ.get("DAILYPAPERS_TEST_POSTGRES_URL", "")
    if not admin_url:
        raise SystemExit("--backend postgres needs --postgres-url or DAILYPAPERS_TEST_POSTGRES_URL "
                         "(a server with pgvector; see docs/postgresql.md)")
    name = f"burst_bench_{os.getpid()}"
    admin = create_engine(Database(admin_url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(Database(admin_url).url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _load_dataset(url: str, env: dict[str, str], dataset: Path) -> dict[str, Any]:
    if not dataset.is_file():
        raise SystemExit(f"no dataset at {dataset} (pass --dataset)")
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dailypapers", "import", "jsonl", str(dataset)],
                   env={**env, "DAILYPAPERS_DATABASE_URL": url}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    database = Database(url)
    try:
        with database.session() as db:
            papers = db.scalar(select(func.count()).select_from(Paper))
            days = db.scalar(select(func.count(func.distinct(DailyEntry.day))))
    finally:
        database.dispose()
    return {"source": dataset.name, "papers": papers, "featured_days": days,
            "import_seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", help="an admin URL (default: $DAILYPAPERS_TEST_POSTGRES_URL)")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--mode", choices=[*ALL_MODES, "all"], default="all")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dataset", type=Path, default=HF_JSONL, help="JSON Lines to import first")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/burst-BACKEND.json)")
    parser.add_argument("--readers-for", metavar="URL", help=argparse.SUPPRESS)  # the readers' process
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # A SIGTERM unwinds like an error, so the server, readers and database are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.readers_for:
        read_until_stdin_closes(args.readers_for, args.paths, args.readers)
        return

    import web

    from tests.sources.arxiv_api import recorded_arxiv_api

    modes = ALL_MODES if args.mode == "all" else (args.mode,)
    load_start = [round(x, 2) for x in os.getloadavg()]
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="burst-")))
        url = stack.enter_context(fresh_database(args.backend, workdir, args.postgres_url))
        arxiv = stack.enter_context(recorded_arxiv_api())
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        env["DAILYPAPERS_DATA_DIR"] = str(workdir / "var")
        dataset = _load_dataset(url, env, args.dataset)
        secret = "burst-" + os.urandom(16).hex()
        # Limits scaled up: all members come from 127.0.0.1, and per-address limits (sign-up,
        # subscribe) would refuse a crowd that a real site sees from many addresses.
        server = stack.enter_context(web.Server(workdir / "burst.db", args.workers, 5.0, database_url=url, env={
            "DAILYPAPERS_SECRET_KEY": secret, "DAILYPAPERS_ARXIV_API_URL": arxiv.url,
            "DAILYPAPERS_ARXIV_MIN_INTERVAL": "0", "DAILYPAPERS_RATE_LIMIT_SCALE": "1000",
            "DAILYPAPERS_SEARCH_SEMANTIC": "false"}))
        database = Database(url)
        stack.callback(database.dispose)
        runs = []
        for mode in modes:
            report = run_burst(base_url=server.url, database=database, secret=secret,
                               members=args.members, mode=mode, readers=args.readers)
            runs.append(report)
            print(json.dumps({k: report[k] for k in ("mode", "writes", "database", "readers")}),
                  flush=True)
    result = {
        "backend": args.backend,
        "server": f"dailypapers serve --workers {args.workers}",
        "members": args.members,
        "dataset": dataset,
        "machine": {**_machine(), "load_average_at_start": load_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "goal": "0 x 5xx, every accepted write exactly once, readers' p99 <= 1000 ms",
        "goal_met": all(r["writes"]["5xx"] == 0 and r["writes"]["timeouts"] == 0
                        and r["database"]["lost"] == 0 and r["database"]["doubled"] == 0
                        and r["database"]["stray"] == 0 and not r["database"]["problems"]
                        and (r["readers"]["p99_ms"] or 0) <= 1000 for r in runs),
        "runs": runs,
    }
    out = args.out or RESULTS / f"burst-{args.backend}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
