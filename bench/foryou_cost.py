"""CPU of ranking one "For you" page (``search.recommend.rank_for_member``) at realistic library sizes.

    PYTHONPATH=src .venv/bin/python bench/foryou_cost.py --cache var/bench/recommend

The product ranks up to ``services.recommend.MAX_CANDIDATES`` (2,000) recent papers against the
member's newest kept papers (up to ``MAX_KEPT``, 200) with ``BACKGROUND`` (300) reference papers.
Here: 2,000 consecutive papers of ../shared/data/hf_daily_papers.jsonl as candidates, kept
libraries of 5, 20, 50 and 200 papers from before them, their real texts and the product's
vectors (bench/recommend_vectors.py's cache; random unit vectors with ``--random-vectors``).
For each size: CPU per ranking with the term bags already cached (a worker's steady state:
the page is viewed again or the day's papers were seen by another member), and with an empty
cache (the first view after a restart: every candidate tokenised). The database reads of a page
(vectors, texts of uncached papers, cards) are not included. Without bag support (an older
checkout) the ranking runs on vectors only, which gives the "before" figure.
Writes bench/results/foryou_cost.json with the machine and its load average.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path

from machine_facts import machine  # bench/machine_facts.py

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "foryou_cost.json"
SIZES = (5, 20, 50, 200)
CANDIDATES, BACKGROUND = 2000, 300


def _cache(rows: list[dict], ids: list[int]):  # -> BagCache (absent from older checkouts)
    from dailypapers.search.lexical_profile import BagCache

    cache = BagCache()
    for i in ids:
        cache.bag(i, rows[i]["title"], rows[i].get("abstract") or "")
    return cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "recommend")
    parser.add_argument("--random-vectors", action="store_true", help="Skip the encoder: random unit vectors.")
    parser.add_argument("--repeat", type=int, default=5, help="Rankings per size (CPU averaged).")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from bench.recommend import load
    from dailypapers.search import recommend

    rows = load(args.data)
    rows.sort(key=lambda r: (r["day"], r["arxiv_id"]))
    if args.random_vectors:
        vectors = recommend.normalise(np.random.default_rng(0).standard_normal((len(rows), 384)))
    else:
        from bench.recommend_vectors import load_or_embed
        vectors = load_or_embed(rows, args.cache).astype(np.float64)
    lexical = "candidate_bags" in inspect.signature(recommend.rank_for_member).parameters
    start = len(rows) - CANDIDATES
    cand_ids = list(range(start, len(rows)))
    load_before = os.getloadavg()
    figures = []
    for size in SIZES:
        kept_ids = list(range(start - 1, start - 1 - size, -1))  # newest first
        ref_ids = list(range(start - 1 - size - BACKGROUND, start - 1 - size))
        cand, kept, ref = vectors[cand_ids], vectors[kept_ids], vectors[ref_ids]
        entry: dict[str, object] = {"kept": size, "candidates": len(cand_ids), "background": len(ref_ids)}
        for label in ("warm", "cold") if lexical else ("vectors only",):
            warm = _cache(rows, [*cand_ids, *kept_ids]) if label == "warm" else None
            cpu = 0.0
            for _ in range(args.repeat):
                t0 = time.process_time()
                extra = {}
                if lexical:
                    bags = warm if warm is not None else _cache(rows, [])
                    extra = {"candidate_bags": [bags.bag(i, rows[i]["title"], rows[i].get("abstract") or "")
                                                for i in cand_ids],
                             "kept_bags": [bags.bag(i, rows[i]["title"], rows[i].get("abstract") or "")
                                           for i in kept_ids]}
                recommend.rank_for_member(cand, kept, background=ref, **extra)
                cpu += time.process_time() - t0
            entry[f"{label} ms"] = round(1000 * cpu / args.repeat, 1)
        figures.append(entry)
        print(json.dumps(entry), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "CPU of rank_for_member for one For-you page (2,000 candidates)",
        "dataset": {"path": args.data.name, "papers": len(rows), "random_vectors": args.random_vectors},
        "lexical": lexical, "repeat": args.repeat, "figures": figures,
        "machine": machine(load_average_before=load_before, load_average_after=os.getloadavg()),
    }, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    main()
