"""The burst of bench/burst.py with 50 members against a real two-worker server on the test
backend: no response 5xx, every accepted write in the database exactly once, nothing that was
refused, and the counters moved by exactly the accepted writes. No timing is asserted."""

from __future__ import annotations

import importlib.util
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.community.conftest import start_site

MEMBERS = 50
BURST = Path(__file__).resolve().parents[2] / "bench" / "burst.py"


def load_burst():
    spec = importlib.util.spec_from_file_location("bench_burst", BURST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def burst():
    return load_burst()


@pytest.fixture(scope="module")
def crowd_site(request, tmp_path_factory):
    with ExitStack() as stack:
        # All members come from 127.0.0.1: per-address limits are scaled out of the way.
        yield start_site(stack, request, tmp_path_factory.mktemp("burst"), workers=2,
                         rate_limit_scale=1000, search_semantic=False)


@pytest.mark.parametrize("mode", ["upvote", "comment", "subscribe", "submit", "mixed"])
def test_burst_of_members_loses_nothing_and_never_fails(burst, crowd_site, mode):
    report = burst.run_burst(base_url=crowd_site.url, database=crowd_site.database,
                             secret=crowd_site.settings.secret_key, members=MEMBERS, mode=mode,
                             readers=2, prefix=f"t{mode}")
    writes, stored = report["writes"], report["database"]
    assert writes["sent"] == MEMBERS
    assert writes["5xx"] == 0 and writes["timeouts"] == 0, writes
    assert stored["problems"] == [], stored
    assert stored["lost"] == stored["doubled"] == stored["stray"] == 0
    assert stored["accepted_found_once"] == stored["accepted"]
    assert report["readers"]["5xx"] == 0
    if mode in ("upvote", "comment", "subscribe"):
        assert stored["accepted"] == MEMBERS, writes  # nothing here may be refused
    if mode == "submit":
        # Every catalog paper is featured by its submitter; each recorded paper by one of its racers.
        assert stored["accepted"] == MEMBERS // 2 + len(burst.RECORDED_IDS), writes
        assert set(writes["statuses"]) == {"303", "409"}, writes
