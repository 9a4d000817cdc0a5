"""Precomputed vectors shipped with the bundled sample, so a fresh install searches by meaning at once.

Plain artefacts, no pickle: ``sample/vectors/<model>.npy`` (float32 rows) and ``<model>.json``
(``{"version", "model", "dim", "hashes", "title_keys"}``, one entry per row). They are written by
``dailypapers embed --export-bundle DIR`` from a database that holds the sample, and used only
for papers whose content hash matches (the same text, embedded by the same model).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.search.documents import content_hash
from dailypapers.search.embedder import store_vectors
from dailypapers.store import Embedding, Paper

BUNDLE_VERSION = 1


def _slug(model: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in model)


def bundle_dir() -> Path:
    return Path(str(resources.files("dailypapers") / "sample" / "vectors"))


def load_bundle(model: str, folder: Path | None = None) -> tuple[dict[str, np.ndarray], list[str]]:
    """``({content_hash: vector}, title_keys)`` shipped for ``model``; empty when there is none."""
    base = (folder or bundle_dir()) / _slug(model)
    try:
        params = json.loads(base.with_suffix(".json").read_text())
        vectors = np.load(base.with_suffix(".npy"), allow_pickle=False)
    except (OSError, ValueError):
        return {}, []
    if params.get("version") != BUNDLE_VERSION or params.get("model") != model:
        return {}, []
    hashes = params["hashes"]
    if vectors.shape != (len(hashes), params["dim"]):
        return {}, []
    vectors = vectors.astype(np.float32, copy=False)
    return {h: vectors[i] for i, h in enumerate(hashes)}, list(params.get("title_keys", []))


def write_bundle(*, db: Session, model: str, folder: Path) -> int:
    """Write every stored vector of ``model`` (whose text is current) as a bundle; returns the count."""
    rows = db.execute(select(Paper.title, Paper.abstract, Paper.title_key, Embedding.content_hash,
                             Embedding.dim, Embedding.vector)
                      .join(Embedding, Embedding.paper_id == Paper.id)
                      .where(Embedding.model == model).order_by(Paper.id)).all()
    rows = [r for r in rows if content_hash(r.title, r.abstract) == r.content_hash]
    if not rows:
        return 0
    dims = {r.dim for r in rows}
    if len(dims) != 1:
        raise ValueError(f"vectors of {model!r} have several dimensions: {sorted(dims)}")
    matrix = np.stack([np.frombuffer(r.vector, dtype="<f4") for r in rows]).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / _slug(model)
    np.save(base.with_suffix(".npy"), matrix, allow_pickle=False)
    base.with_suffix(".json").write_text(json.dumps({
        "version": BUNDLE_VERSION, "model": model, "dim": dims.pop(),
        "hashes": [r.content_hash for r in rows], "title_keys": [r.title_key for r in rows],
    }, indent=0))
    return len(rows)


def adopt_bundle(*, db: Session, model: str) -> int:
    """Store bundled vectors for the sample papers that have no vector of ``model`` yet.

    Looks papers up by normalised title (which survives a seed card being merged with its arXiv
    record), then keeps only those whose text still hashes to a bundled vector. Commits.
    """
    vectors, title_keys = load_bundle(model)
    if not vectors:
        return 0
    has_vector = select(Embedding.paper_id).where(Embedding.model == model)
    rows = []
    for start in range(0, len(title_keys), 500):
        found = db.execute(select(Paper.id, Paper.title, Paper.abstract)
                           .where(Paper.title_key.in_(title_keys[start:start + 500]),
                                  Paper.id.not_in(has_vector))).all()
        for pid, title, abstract in found:
            digest = content_hash(title, abstract)
            if digest in vectors:
                rows.append((pid, digest, vectors[digest]))
    if rows:
        store_vectors(db=db, model=model, rows=rows)
        db.commit()
    return len(rows)
