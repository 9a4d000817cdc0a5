"""bench/import.py's measurements of one import: RSS and CPU time of the importing process, peak
RSS of its reader child, CPU of the PostgreSQL backends serving it, and the database's size."""

from __future__ import annotations

import contextlib
import os
import resource
from pathlib import Path


def rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children (the snapshot
    import's reader process): less disturbed than wall time by other jobs."""
    return sum(usage.ru_utime + usage.ru_stime for usage in (
        resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


class ChildPeak:
    """Peak RSS (VmHWM) of this process's children (the snapshot import's reader), sampled twice a
    second: ``RUSAGE_CHILDREN``'s ru_maxrss would count the copy of this process a child is before
    it execs, not the reader."""

    def __init__(self) -> None:
        import threading

        self.kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for children in Path("/proc/self/task").glob("*/children"):
                for pid in children.read_text().split():
                    with contextlib.suppress(OSError, StopIteration, ValueError):
                        status = Path(f"/proc/{pid}/status").read_text().splitlines()
                        if any(line.startswith("Name:") and "python" in line for line in status):
                            hwm = next(line for line in status if line.startswith("VmHWM:"))
                            self.kib = max(self.kib, int(hwm.split()[1]))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.kib


def server_cpu_seconds(db_url: str) -> float | None:
    """CPU seconds used so far by the local PostgreSQL backends serving this database (found by
    their process titles in /proc), or None for SQLite (no server: the import's own CPU is all)."""
    if not db_url.startswith("postgresql"):
        return None
    name = db_url.rsplit("/", 1)[1]
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or f" {name} " not in (proc / "cmdline").read_text():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def database_mib(database: object) -> float:
    from sqlalchemy import text

    url = database.url  # type: ignore[attr-defined]
    if url.startswith("sqlite:///"):
        db_path = Path(url.removeprefix("sqlite:///"))
        return round(sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 2**20, 1)
    with database.engine.connect() as conn:  # type: ignore[attr-defined]
        return round(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20, 1)
