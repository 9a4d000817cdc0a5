"""Run the real server in a subprocess for tests that talk HTTP to it (clients, browsers, load)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from dailypapers.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process see the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"DAILYPAPERS_{name.upper()}"] = str(value)
    return env


@contextmanager
def running_server(settings: Settings, *, workers: int = 1, timeout: float = 180.0,
                   base_url: bool = True) -> Iterator[str]:
    """``base_url=False`` leaves DAILYPAPERS_BASE_URL unset (``serve`` then derives it)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = settings_env(settings.model_copy(update={"base_url": url}))
    if not base_url:
        del env["DAILYPAPERS_BASE_URL"]
    # Output goes to a file, not a pipe: a pipe nobody reads fills up (the console mailer prints
    # every mail) and then blocks the server's next write, and with it the request.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                out = log.read().decode(errors="replace")
                raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
