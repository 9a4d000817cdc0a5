"""bench/web.py's load generator: ``wrk`` when it is installed, else an asyncio httpx loop in a
separate process (so the client's Python does not share the server's interpreter); both give
requests/s, p50/p99 latency and the non-2xx count. Used by bench/web.py and bench/backends.py."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    options = [f"--header={k}: {v}" for k, v in (headers or {}).items()]
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency",
                          *options, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s))\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests_per_s": rps, "requests": requests, "p50_ms": _ms(latency["50"]), "p99_ms": _ms(latency["99"]),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


async def _httpx_load(url: str, seconds: int, connections: int,
                      headers: dict[str, str] | None = None) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    bad = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
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
    return {"requests_per_s": len(latencies) / elapsed, "requests": len(latencies),
            "p50_ms": latencies[len(latencies) // 2],
            "p99_ms": latencies[int(len(latencies) * 0.99)], "non_2xx": bad, "socket_errors": ""}


def load(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(url, seconds, connections, headers)
    # A separate process, so the client's Python does not share the server's interpreter.
    code = (f"import asyncio, json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            "from web_load import _httpx_load; "
            f"print(json.dumps(asyncio.run(_httpx_load({url!r}, {int(seconds)}, {int(connections)}, "
            f"{headers or {}!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def warm_up(url: str, workers: int, headers: dict[str, str] | None = None) -> None:
    """First requests of each worker may build per-process state (the search index behind a paper
    page's similar papers, template caches): wait for them, then warm the connections."""
    import httpx

    for _ in range(4 * workers):
        assert httpx.get(url, timeout=600, headers=headers).status_code == 200, url
    load(url, 2, 8, headers)
