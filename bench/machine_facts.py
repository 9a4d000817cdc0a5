"""What every benchmark's JSON says about the machine it ran on: the benches run on a shared
2-core VM, so the figures mean little without the platform and the load around them."""

from __future__ import annotations

import os
import platform


def machine(**extra: object) -> dict[str, object]:
    """Platform, Python and CPU count, with ``extra`` facts of the bench's own."""
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            **extra}


def load_average(before: tuple[float, float, float]) -> dict[str, list[float]]:
    """The 1/5/15-minute load averages when the bench started (``before``) and now."""
    return {"before": [round(x, 2) for x in before], "after": [round(x, 2) for x in os.getloadavg()]}
