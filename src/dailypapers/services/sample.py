"""The bundled sample: the three seed pages shipped inside the package, loaded into an empty database."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.services.catalog import ImportResult
from dailypapers.services.imports import import_seeds
from dailypapers.store import Paper

SAMPLE_YEAR = 2025  # the year the bundled seed pages were captured in


def sample_paths() -> list[Path]:
    folder = resources.files("dailypapers") / "sample"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt"))


def load_sample_if_empty(*, db: Session) -> ImportResult | None:
    """Import the bundled seed pages when the catalog has no paper yet; ``None`` if it had some."""
    if db.scalar(select(func.count()).select_from(Paper)):
        return None
    return import_seeds(db=db, paths=sample_paths(), year=SAMPLE_YEAR)


def is_sample_only(*, db: Session) -> bool:
    """Whether the catalog holds nothing but the bundled sample's seed cards (keys ``seed-…``):
    pages then say so and show how to bring in real papers. One indexed probe, stopping at the
    first real paper."""
    real, any_paper = db.connection().execute(_SAMPLE_PROBE).one()
    return real is None and any_paper is not None


# Built once: it runs on every day page.
_SAMPLE_PROBE = select(select(Paper.id).where(~Paper.key.startswith("seed-")).limit(1).scalar_subquery(),
                       select(Paper.id).limit(1).scalar_subquery())
