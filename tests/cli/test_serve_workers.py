"""``dailypapers serve --workers 2``: two web processes on one database, every request answered."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil

from dailypapers.services.imports import import_seeds
from tests.conftest import SEEDS
from tests.server import running_server


def _workers_of(port: int) -> list[psutil.Process]:
    """The worker processes uvicorn spawned under the ``serve`` process listening on ``port``."""
    for proc in psutil.Process().children(recursive=False):
        if str(port) in " ".join(proc.cmdline()):
            return [c for c in proc.children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]
    raise AssertionError(f"no serve process for port {port}")


def test_two_workers_serve_the_same_database(settings, database, db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    with running_server(settings, workers=2) as url:
        assert len(_workers_of(int(url.rsplit(":", 1)[1]))) == 2
        with httpx.Client(base_url=url, timeout=20) as client, ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda _: client.get("/papers/date/2025-05-08"), range(40)))
        assert [r.status_code for r in responses] == [200] * 40
        assert all("Continuous Thought Machines" in r.text for r in responses)
