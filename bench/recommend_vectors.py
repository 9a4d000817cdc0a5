"""The vectors bench/recommend.py ranks with: every paper of the HF dataset, embedded once and cached.

    .venv/bin/python bench/recommend_vectors.py --cache DIR     # (bench/recommend.py calls this)

The texts are ``embedding_text(title, abstract)`` and the model is the product's own
(``search.encoder.load_provider``, onnxruntime), so these are the vectors ``dailypapers embed``
would store. The cache is two plain files (no pickle): ``vectors-<model>.npy`` (float32, one row
per line of the dataset) and ``vectors-<model>.json`` (the model, the dataset's size and the
content hash of every row). A row whose hash no longer matches is embedded again; an interrupted
run keeps every finished chunk (the partial file is rewritten after each one).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
CHUNK = 256


def _slug(model: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in model)


def load_or_embed(records: list[dict], cache: Path, *, model: str = MODEL, threads: int = 0) -> np.ndarray:
    """Unit vectors of ``records`` (title + abstract) in their order, from ``cache`` when it holds them."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from dailypapers.search.documents import content_hash, embedding_text
    from dailypapers.search.encoder import load_provider

    cache.mkdir(parents=True, exist_ok=True)
    npy, meta = cache / f"vectors-{_slug(model)}.npy", cache / f"vectors-{_slug(model)}.json"
    hashes = [content_hash(r.get("title") or "", r.get("abstract") or "") for r in records]
    known: dict[str, np.ndarray] = {}
    if npy.exists() and meta.exists():
        stored = json.loads(meta.read_text())
        if stored.get("model") == model:
            matrix = np.load(npy)
            known = {h: matrix[i] for i, h in enumerate(stored["hashes"]) if i < len(matrix)}
    todo = [i for i, h in enumerate(hashes) if h not in known]
    if todo:
        provider = load_provider(model=model, cache_dir=cache / "models", threads=threads)
        started = time.perf_counter()
        with Progress(TextColumn("embedding papers (once)"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn()) as bar:
            task = bar.add_task("embed", total=len(todo))
            for start in range(0, len(todo), CHUNK):
                part = todo[start:start + CHUNK]
                vectors = provider.embed_documents(
                    [embedding_text(records[i].get("title") or "", records[i].get("abstract") or "") for i in part])
                for i, vector in zip(part, vectors, strict=True):
                    known[hashes[i]] = np.asarray(vector, dtype=np.float32)
                _save(npy, meta, model, known)
                bar.advance(task, len(part))
        print(f"embedded {len(todo)} papers in {time.perf_counter() - started:.0f} s "
              f"(load average {os.getloadavg()[0]:.1f}); cached in {cache}", flush=True)
    matrix = np.stack([known[h] for h in hashes]).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _save(npy: Path, meta: Path, model: str, known: dict[str, np.ndarray]) -> None:
    hashes = list(known)
    tmp = npy.with_suffix(".tmp.npy")
    np.save(tmp, np.stack([known[h] for h in hashes]).astype(np.float32))
    tmp.replace(npy)
    meta.write_text(json.dumps({"model": model, "rows": len(hashes), "hashes": hashes}))


if __name__ == "__main__":
    import argparse
    import sys

    sys.path.insert(0, str(ROOT / "src"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "recommend")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    with open(args.data, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    print(load_or_embed(rows, args.cache, threads=args.threads).shape)
