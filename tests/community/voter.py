"""The voter processes of test_concurrency.py. A module of its own that imports only httpx: the
spawned pool imports the module of the function it runs, and the test module's imports (the
app, SQLAlchemy, the fixtures) cost each of the ten processes about a second of CPU."""

from __future__ import annotations

import httpx


def final_vote(user: int, paper: int) -> bool:
    return (user + paper) % 3 != 0


def voter(job: tuple[str, str, list[str], int]) -> list[int]:
    """One user's session: toggles on every paper, ending on ``final_vote``. Runs in its own process."""
    base, token, keys, user = job
    statuses = []
    # A kept-alive connection idle for 2 s is not reused: the server closes idle ones after 5 s,
    # and a voter starved by a loaded machine would otherwise send into one the server is closing
    # (seen as a reset, httpx.ReadError, on PostgreSQL with both suites running side by side).
    limits = httpx.Limits(keepalive_expiry=2.0)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                      limits=limits) as http:
        for paper, key in enumerate(keys):
            steps = ["up", "up", "down", "up", "down"]  # repeated and interleaved on purpose
            steps.append("up" if final_vote(user, paper) else "down")
            for step in steps:
                url = f"/api/papers/{key}/upvote"
                for attempt in (1, 2):
                    try:
                        response = http.post(url) if step == "up" else http.delete(url)
                        break
                    except httpx.RemoteProtocolError:
                        # The server closed the kept-alive connection as we reused it (a
                        # starved client on a loaded machine outlives the keep-alive timeout);
                        # every step sets a state, so sending it again is safe.
                        if attempt == 2:
                            raise
                statuses.append(response.status_code)
    return statuses
