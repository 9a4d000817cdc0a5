"""CPU time and peak RSS of one web worker start: import ``dailypapers.web.app`` and build the app
(what ``uvicorn --factory dailypapers.web.app:app_from_env`` does before it serves), in a fresh
interpreter per run, against an empty SQLite file in a temporary directory.

    PYTHONPATH=src .venv/bin/python bench/startup_cpu.py --runs 5

Prints one JSON line per run: CPU seconds (user + system, so the load average inflates it
little), peak RSS, whether the ``mcp`` SDK was imported, and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

ONE_START = """
import json, os, resource, sys, time
start = time.process_time()
from dailypapers.settings import Settings
from dailypapers.web.app import create_app
create_app(Settings())
print(json.dumps({"cpu_s": round(time.process_time() - start, 3),
                  "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "mcp_imported": "mcp" in sys.modules, "load": round(os.getloadavg()[0], 2)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "DAILYPAPERS_DATABASE_URL": f"sqlite:///{data}/start.db",
               "DAILYPAPERS_DATA_DIR": data}
        for _ in range(args.runs):
            subprocess.run([sys.executable, "-c", ONE_START], env=env, check=True)


if __name__ == "__main__":
    main()
