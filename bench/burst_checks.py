"""bench/burst.py's helpers: who acts (members, targets, outcomes), the anonymous readers' process,
and the database checks after a burst (each accepted write exactly once, counters moved by
exactly the accepted writes)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from dailypapers.store import Comment, DailyEntry, Paper, Subscription, Upvote
from dailypapers.store.db import Database


#: Papers only the recorded-arXiv server knows (tests/fixtures/arxiv): submissions race for them.
RECORDED_IDS = ("1605.08386", "astro-ph/0601001")


@dataclass(frozen=True)
class Member:
    index: int
    user_id: int
    username: str
    email: str
    token: str
    csrf: str


@dataclass
class Outcome:
    member: Member
    action: str
    target: str
    status: int  # 0: no answer within the client time-out
    ms: float


@dataclass
class Targets:
    """What the burst writes to: one featured paper, and papers to submit."""

    paper_key: str
    paper_id: int
    catalog_ids: list[str]  # arXiv ids in the catalog, not featured yet (one per submitter)
    days: list[str] = field(default_factory=list)  # day pages the readers load


def comment_body(run: str, member: Member) -> str:
    return f"burst {run}: a comment from member {member.index}"


def accepted(outcome: Outcome) -> bool:
    """Whether the site said the write was done: forms redirect (303); subscribing answers 200."""
    return outcome.status == (200 if outcome.action == "subscribe" else 303)


def read_until_stdin_closes(base_url: str, paths: list[str], readers: int) -> None:
    """The readers' process (``burst.py --readers``): anonymous readers load ``paths`` until
    standard input closes, then print [wall-clock start, ms, status] per request as JSON."""
    stop = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()

    async def read(i: int, out: list[tuple[float, float, int]]) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            n = i
            while not stop.is_set():
                path = paths[n % len(paths)]
                n += 1
                began, wall = time.perf_counter(), time.time()
                try:
                    status = (await client.get(path)).status_code
                except httpx.TimeoutException:
                    status = 0
                out.append((wall, (time.perf_counter() - began) * 1000, status))

    async def main() -> list[tuple[float, float, int]]:
        out: list[tuple[float, float, int]] = []
        await asyncio.gather(*(read(i, out) for i in range(readers)))
        return out

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(json.dumps(asyncio.run(main())), flush=True)


@contextmanager
def readers_running(base_url: str, paths: list[str], readers: int) -> Iterator[list[tuple[float, float, int]]]:
    """Readers (a process of their own, so the writers' client does not slow them) load
    ``paths`` in a loop until the block ends; the list then holds (wall-clock start, ms, status)
    per request."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().with_name("burst.py")), "--readers-for", base_url,
         "--readers", str(readers), *paths],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    results: list[tuple[float, float, int]] = []
    try:
        # The pages rendered (and cached) once before the burst: the readers' figures are those
        # of a site that was serving them already, not of a cold start.
        for path in paths:
            httpx.get(base_url + path, timeout=120).raise_for_status()
        time.sleep(1.0)
        yield results
    finally:
        out, _ = proc.communicate("", timeout=120)
        results.extend(tuple(row) for row in json.loads(out))  # type: ignore[misc]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def verify(database: Database, outcomes: list[Outcome], targets: Targets, run: str,
           before: dict[str, int]) -> dict[str, Any]:
    """Each accepted write exactly once in the database, nothing that was not accepted, and the
    counters moved by exactly the accepted writes."""
    found: dict[str, list[int]] = {"upvote": [], "comment": [], "subscribe": [], "submit": []}
    problems: list[str] = []
    with database.session() as db:
        for o in outcomes:
            m = o.member
            if o.action == "upvote":
                n = db.scalar(select(func.count()).select_from(Upvote).where(
                    Upvote.user_id == m.user_id, Upvote.paper_id == targets.paper_id))
            elif o.action == "comment":
                n = db.scalar(select(func.count()).select_from(Comment).where(
                    Comment.user_id == m.user_id, Comment.body == comment_body(run, m)))
            elif o.action == "subscribe":
                n = db.scalar(select(func.count()).select_from(Subscription).where(
                    Subscription.email_key == m.email.casefold(), Subscription.user_id == m.user_id))
            else:
                n = db.scalar(select(func.count()).select_from(DailyEntry).join(
                    Paper, Paper.id == DailyEntry.paper_id).where(
                    Paper.arxiv_id == o.target, DailyEntry.submitter_user_id == m.user_id))
            found[o.action].append(n or 0)
            want = 1 if accepted(o) else 0
            if (n or 0) != want:
                problems.append(f"member {m.index} {o.action} {o.target}: answered {o.status}, "
                                f"found {n} time(s)")
        paper = db.get(Paper, targets.paper_id)
        assert paper is not None
        votes = sum(accepted(o) for o in outcomes if o.action == "upvote")
        comments = sum(accepted(o) for o in outcomes if o.action == "comment")
        if paper.upvotes != before["upvotes"] + votes:
            problems.append(f"paper upvotes {paper.upvotes} != {before['upvotes']} + {votes}")
        if paper.num_comments != before["num_comments"] + comments:
            problems.append(f"paper comments {paper.num_comments} != {before['num_comments']} + {comments}")
        for ref in RECORDED_IDS:
            entries = db.scalar(select(func.count()).select_from(DailyEntry).join(
                Paper, Paper.id == DailyEntry.paper_id).where(Paper.arxiv_id == ref))
            raced = [o for o in outcomes if o.action == "submit" and o.target == ref]
            if raced and entries != 1:
                problems.append(f"{ref}: {entries} daily entries after the race (want 1)")
    acc = [o for o in outcomes if accepted(o)]
    lost = sum(1 for o, n in _pairs(outcomes, found) if accepted(o) and n == 0)
    doubled = sum(1 for _, n in _pairs(outcomes, found) if n > 1)
    stray = sum(1 for o, n in _pairs(outcomes, found) if not accepted(o) and n > 0)
    return {"accepted": len(acc), "accepted_found_once": len(acc) - lost - sum(
        1 for o, n in _pairs(outcomes, found) if accepted(o) and n > 1),
            "lost": lost, "doubled": doubled, "stray": stray, "problems": problems[:20]}


def _pairs(outcomes: list[Outcome], found: dict[str, list[int]]) -> Iterator[tuple[Outcome, int]]:
    seen: Counter[str] = Counter()
    for o in outcomes:
        yield o, found[o.action][seen[o.action]]
        seen[o.action] += 1
