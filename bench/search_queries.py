"""Known-item text search on real HF papers, by query style (issue 15): does sentence matching help?

    .venv/bin/python bench/search_queries.py --queries bench/data/hf_queries_heldout.jsonl \\
        --papers all --cache /work/cache/searchq/hf-full [--tune]

Query sets (JSON Lines: ``arxiv_id``, ``query``, ``style``, optional ``split``), written by hand
from abstracts of ../shared/data/hf_daily_papers.jsonl with the titles held out:

- ``bench/data/hf_queries_heldout.jsonl`` (default): 162 queries for 54 papers spread over the
  whole catalog, one of each style per paper: ``keyword`` (a few terms), ``descriptive`` (what the
  paper does, in a phrase), ``question`` (what a user would ask that the paper answers). Papers
  alternate between the ``dev`` and ``test`` split, so a paper's three queries share one split.
- ``bench/data/hf_queries.jsonl``: the first 30 (descriptive and question), all ``test``.

The catalog is the first ``--papers`` papers of the dataset plus every target (``all``: the whole
dataset, 11,027 papers), imported, embedded (whole abstracts and sentences) and indexed by the
product's own code into a SQLite database under ``--cache`` (kept: a rerun reuses everything; the
same layout as ``DAILYPAPERS_DATA_DIR=DIR/var DAILYPAPERS_DATABASE_URL=sqlite:///DIR/catalog.db
dailypapers import jsonl … && dailypapers embed``, which may build it instead).

Runs, each the product's code: keyword only, meaning only, hybrid (``rank_query``: RRF of both,
with the semantic floor), and hybrid + sentence rerank (``ranking.rerank_query``: the top 10
re-ordered by the z-scored hybrid rank, best-sentence cosine, whole-abstract cosine and title
cosine, with the product's weights). ``--tune`` also tries a grid fixed in advance (weights of the
three scores against the rank's 1, and re-rank depths 10 / 20 / 30), picks the best on the dev
split and reports that one setting on test. Metrics: MRR@10, hits@1, hits@10 of the paper each query was written from.
Figures go to ``bench/results/search_queries.json`` (with the dataset size, machine and load).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HF = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
QUERIES = ROOT / "bench" / "data" / "hf_queries_heldout.jsonl"
RUNS = ("keyword only", "meaning only", "hybrid (today)", "hybrid + sentence rerank")
STYLES = ("keyword", "descriptive", "question")
#: Re-rank depths --tune tries; sentence vectors are read (and, with --sentences heads, embedded)
#: for the deepest, so every depth sees the rows the product would read.
DEPTHS = (10, 20, 30)


def catalog(cache: Path, papers: str, targets: set[str]) -> Path:
    """The JSON Lines file to import: the dataset itself, or its first N papers plus the targets."""
    if papers == "all":
        return HF
    subset = cache / f"papers-{papers}.jsonl"
    if not subset.exists():
        cache.mkdir(parents=True, exist_ok=True)
        lines = []
        with open(HF, encoding="utf-8") as src:
            for i, line in enumerate(src):
                if i < int(papers) or json.loads(line)["arxiv_id"] in targets:
                    lines.append(line)
        subset.write_text("".join(lines), encoding="utf-8")
    return subset


def embed_heads(db, engine, paper_ids: set[int]) -> int:  # type: ignore[no-untyped-def]
    """Sentence vectors for just these papers (the heads the re-rank reads), as ``embed`` computes
    and stores them: the same split, encoder and rows."""
    import numpy as np
    from sqlalchemy import select

    from dailypapers.search.sentence_vectors import _store
    from dailypapers.search.sentences import paper_items, sentences_hash
    from dailypapers.store import Paper, SentenceEmbedding

    have = set(db.scalars(select(SentenceEmbedding.paper_id).where(SentenceEmbedding.model == engine.model)))
    todo = sorted(paper_ids - have)
    for start in range(0, len(todo), 64):
        batch = todo[start:start + 64]
        # another process may be embedding the same list from its end (rows it wrote are skipped)
        done = set(db.scalars(select(SentenceEmbedding.paper_id).where(
            SentenceEmbedding.model == engine.model, SentenceEmbedding.paper_id.in_(batch))))
        rows = []
        for pid, title, abstract in db.execute(select(Paper.id, Paper.title, Paper.abstract)
                                               .where(Paper.id.in_([p for p in batch if p not in done]))):
            items = paper_items(title or "", abstract or "")
            if items:  # the stored layout: the title's vector (zeros without a title), then sentences
                texts = [i for i, text in enumerate(items) if text]
                vectors = engine.provider.embed_documents([items[i] for i in texts])
                row = np.zeros((len(items), vectors.shape[1]), np.float32)
                row[texts] = vectors
                rows.append((pid, sentences_hash(items), row))
        _store(db, engine.model, rows)
        db.commit()
    return len(todo)


def build(cache: Path, source: Path, sentences: bool):  # type: ignore[no-untyped-def]
    from rich.progress import Progress
    from sqlalchemy import func, select

    from dailypapers.search.embedder import count_candidates, embed_pending
    from dailypapers.search.engine import SearchEngine
    from dailypapers.search.sentence_vectors import count_sentence_candidates, embed_sentences_pending
    from dailypapers.services.imports import import_jsonl
    from dailypapers.settings import Settings
    from dailypapers.store import Paper
    from dailypapers.store.db import Database

    cache.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{cache / 'catalog.db'}"
    settings = Settings(database_url=url, data_dir=cache / "var", environment="development", load_sample=False)
    database = Database(url)
    database.migrate()
    engine = SearchEngine(settings)
    with database.session() as db:
        if not db.scalar(select(func.count()).select_from(Paper)):
            import_jsonl(db=db, paths=[source])
            db.commit()
        with Progress() as bar:
            task = bar.add_task("abstract vectors", total=count_candidates(db=db, model=engine.model))
            embed_pending(db=db, provider=engine.provider, batch_size=256, progress=lambda n: bar.advance(task, n))
            if sentences:
                task = bar.add_task("sentence vectors", total=count_sentence_candidates(db=db, model=engine.model))
                embed_sentences_pending(db=db, provider=engine.provider, batch_size=256,
                                        progress=lambda n: bar.advance(task, n))
        db.commit()
        engine.prepare(db)
    return engine, database


def metrics(ranks: list[int | None]) -> dict[str, float | int]:
    n = max(len(ranks), 1)
    return {"n": len(ranks), "mrr10": round(sum(1 / r for r in ranks if r and r <= 10) / n, 3),
            "hits1": sum(1 for r in ranks if r == 1), "hits10": sum(1 for r in ranks if r and r <= 10)}


def rank_of(order: list[int], target: int) -> int | None:
    return order.index(target) + 1 if target in order else None


def table(title: str, queries: list[dict], ranks: dict[str, list[int | None]]) -> dict[str, dict]:
    """MRR@10 (hits@1, hits@10) per run and style over ``queries``; returns the figures."""
    groups = {style: [i for i, q in enumerate(queries) if q["style"] == style] for style in STYLES}
    groups = {k: v for k, v in groups.items() if v} | {"all": list(range(len(queries)))}
    print(f"\n{title}")
    print(f"{'run':26}" + "".join(f"{f'{k} ({len(v)})':>22}" for k, v in groups.items()))
    out: dict[str, dict] = {}
    for run, run_ranks in ranks.items():
        row = {k: metrics([run_ranks[i] for i in v]) for k, v in groups.items()}
        out[run] = row
        print(f"{run:26}" + "".join(f"{m['mrr10']:>9.3f} ({m['hits1']:>3} /{m['hits10']:>3})" for m in row.values()))
    return out


def timing(engine, database, queries: list[dict], rounds: int) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """``search_papers`` (a page of 20 hits, as /search) per query with the re-rank on and off,
    interleaved, after one warm-up pass: wall and CPU ms (process, all threads), p50 / p99."""
    from dailypapers.search.engine import SearchEngine
    from dailypapers.services.search import SearchRequest, search_papers

    off = SearchEngine(engine.settings.model_copy(update={"search_sentences": False}))
    times: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in ("rerank on", "rerank off")}
    with database.session() as db:
        for q in queries:  # warm-up: both engines' indexes loaded, the model's session started
            search_papers(db=db, engine=engine, request=SearchRequest(q=q["query"]))
            search_papers(db=db, engine=off, request=SearchRequest(q=q["query"]))
        for _ in range(rounds):
            for q in queries:
                for name, eng in (("rerank on", engine), ("rerank off", off)):
                    wall, cpu = time.perf_counter(), time.process_time()
                    search_papers(db=db, engine=eng, request=SearchRequest(q=q["query"]))
                    times[name]["wall"].append((time.perf_counter() - wall) * 1000)
                    times[name]["cpu"].append((time.process_time() - cpu) * 1000)
    out = {}
    print("\nsearch_papers end to end (20 hits), ms: wall p50 / p99, CPU p50 / p99")
    for name, t in times.items():
        wall, cpu = sorted(t["wall"]), sorted(t["cpu"])
        row = {"n": len(wall), "wall_p50": wall[len(wall) // 2], "wall_p99": wall[int(len(wall) * 0.99)],
               "cpu_p50": cpu[len(cpu) // 2], "cpu_p99": cpu[int(len(cpu) * 0.99)]}
        out[name] = {k: round(v, 2) for k, v in row.items()}
        print(f"  {name:11} {row['wall_p50']:7.1f} / {row['wall_p99']:7.1f}   "
              f"{row['cpu_p50']:7.1f} / {row['cpu_p99']:7.1f}")
    return out


def machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "note": "shared 2-core VM (other jobs running)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--papers", default="all", help="N (the first N papers plus the targets) or all")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "hf-queries")
    parser.add_argument("--sentences", choices=("all", "heads"), default="all",
                        help="embed every paper's sentences, or only those of the papers in some query's top "
                             "30 (all the re-rank reads: the same figures, a fraction of the embedding time)")
    parser.add_argument("--tune", action="store_true", help="also pick re-rank weights on the dev split")
    parser.add_argument("--latency", type=int, default=0, metavar="ROUNDS",
                        help="also time search_papers end to end with the re-rank on and off (ROUNDS passes)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "search_queries.json")
    args = parser.parse_args()
    from sqlalchemy import select

    from dailypapers.search.alignment import QUERY_WEIGHTS, fuse_query
    from dailypapers.search.query import parse_query
    from dailypapers.search.ranking import QUERY_DEPTH, QueryFeatures, query_features, rank_query, rerank_query
    from dailypapers.search.sentence_vectors import sentence_vectors_of
    from dailypapers.store import Paper

    queries = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    for q in queries:
        q.setdefault("split", "test")
    load_start = os.getloadavg()
    engine, database = build(args.cache, catalog(args.cache, args.papers, {q["arxiv_id"] for q in queries}),
                             sentences=args.sentences == "all")
    if args.sentences == "heads":
        with database.session() as db:
            heads = set()
            for q in queries:
                ranked = rank_query(engine, parse_query(q["query"]), vector=engine.embed_query(q["query"]),
                                    dense=engine.vectors, limit=200, floor=engine.settings.search_semantic_floor)
                heads.update(ranked.ids[:max(DEPTHS)])
            (args.cache / "heads.json").write_text(json.dumps(sorted(heads)))
            print(f"sentence vectors: {embed_heads(db, engine, heads)} of the {len(heads)} head papers embedded")
    ranks: dict[str, list[int | None]] = {run: [] for run in RUNS}
    features: list[tuple[QueryFeatures, list[int], int]] = []
    started, cpu = time.time(), time.process_time()
    with database.session() as db:
        ids = dict(db.execute(select(Paper.arxiv_id, Paper.id)).all())
        for q in queries:
            target = ids[q["arxiv_id"]]
            vector = engine.embed_query(q["query"])
            ranked = rank_query(engine, parse_query(q["query"]), vector=vector, dense=engine.vectors, limit=200,
                                floor=engine.settings.search_semantic_floor)
            sentences = sentence_vectors_of(db=db, model=engine.model, paper_ids=ranked.ids[:max(DEPTHS)])
            found = query_features(ranked, vector=vector, dense=engine.vectors, sentences=sentences, depth=max(DEPTHS))
            # the product's run reads its own depth, as search_papers does
            reranked = rerank_query(ranked, query_features(ranked, vector=vector, dense=engine.vectors,
                                                           sentences=sentences, depth=QUERY_DEPTH))
            features.append((found, ranked.ids, target))
            for run, order in zip(RUNS, (ranked.keyword, ranked.semantic, ranked.ids, reranked.ids), strict=True):
                ranks[run].append(rank_of(order, target))
    seconds, cpu = time.time() - started, time.process_time() - cpu
    results: dict[str, object] = {}
    splits = sorted({q["split"] for q in queries})
    for split in splits:
        chosen = [i for i, q in enumerate(queries) if q["split"] == split]
        results[split] = table(f"{split} split: MRR@10 (hits@1 / hits@10), {len(ids):,} papers",
                               [queries[i] for i in chosen], {r: [v[i] for i in chosen] for r, v in ranks.items()})

    tuning = None
    if args.tune and "dev" in splits:
        def rerun(weights: tuple[float, float, float, float], depth: int) -> list[int | None]:
            out = []
            for found, order, target in features:
                head = found.head[:depth]
                cut = {k: {pid: v for pid, v in getattr(found, k).items() if pid in head}
                       for k in ("sentence", "cosine", "title")}
                if cut["sentence"] and len(head) > 1:  # as rerank_query: no sentence vector, no re-rank
                    head = [pid for pid, _ in fuse_query(head, weights=weights, **cut)]
                out.append(rank_of(head + order[len(head):], target))
            return out

        # Fixed before any result was seen (docs/search.md): rank weight 1, the three others and
        # the depth on a small grid; ties go to the setting closest to plain hybrid, then the cheaper.
        levels = (0, 0.25, 0.5, 1, 2)
        grid = [((1.0, s, c, t), d) for d in DEPTHS for s, c, t in itertools.product(levels, repeat=3)]
        dev = [i for i, q in enumerate(queries) if q["split"] == "dev"]
        test = [i for i, q in enumerate(queries) if q["split"] == "test"]
        scored = []
        for weights, depth in grid:
            r = rerun(weights, depth)
            scored.append((metrics([r[i] for i in dev])["mrr10"], weights, depth, r))
        scored.sort(key=lambda t: (-float(t[0]), sum(t[1][1:]), t[2]))
        hybrid_dev = metrics([ranks["hybrid (today)"][i] for i in dev])["mrr10"]
        print(f"\nbest on dev of {len(grid)} settings (rank, sentence, cosine, title; depth): dev MRR@10 "
              f"(plain hybrid {hybrid_dev:.3f})")
        for mrr, weights, depth, _ in scored[:10]:
            print(f"  {weights} depth {depth}: {mrr:.3f}")
        mrr, weights, depth, r = scored[0]
        test_mrr = metrics([r[i] for i in test])["mrr10"]
        print(f"picked {weights} depth {depth}: test MRR@10 {test_mrr:.3f} "
              f"(plain hybrid {metrics([ranks['hybrid (today)'][i] for i in test])['mrr10']:.3f})")
        picked = {"dev": table(f"dev split, picked setting {weights} depth {depth}", [queries[i] for i in dev],
                               {"hybrid (today)": [ranks["hybrid (today)"][i] for i in dev],
                                "picked re-rank": [r[i] for i in dev]}),
                  "test": table(f"test split, picked setting {weights} depth {depth}", [queries[i] for i in test],
                                {"hybrid (today)": [ranks["hybrid (today)"][i] for i in test],
                                 "picked re-rank": [r[i] for i in test]})}
        tuning = {"grid": len(grid), "levels": levels, "depths": DEPTHS, "best_on_dev": weights,
                  "depth": depth, "dev_mrr10": mrr, "test_mrr10": test_mrr, "product_weights": QUERY_WEIGHTS,
                  "picked": picked}
    latency = timing(engine, database, queries, args.latency) if args.latency else None
    load_end = os.getloadavg()
    print(f"\n{len(queries)} queries, {len(ids):,} papers; {seconds:.0f} s wall, {cpu:.0f} s CPU; load average "
          f"{load_start[0]:.1f} -> {load_end[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M')} UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "queries": str(args.queries.relative_to(ROOT)) if args.queries.is_relative_to(ROOT) else str(args.queries),
        "query_count": len(queries), "papers": len(ids), "rerank_weights": QUERY_WEIGHTS, "tuning": tuning,
        "latency": latency,
        "machine": machine(), "load_average": {"start": load_start, "end": load_end}, "commit": commit.strip(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": results,
        "ranks": {run: [{"arxiv_id": q["arxiv_id"], "style": q["style"], "split": q["split"], "rank": r}
                        for q, r in zip(queries, v, strict=True)] for run, v in ranks.items()},
    }, indent=1))
    database.dispose()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
