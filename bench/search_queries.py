"""Known-item search with descriptive and question-style queries (issue 15), on real HF papers.

    .venv/bin/python bench/search_queries.py [--work DIR] [--papers 1000]

The query set, ``bench/data/hf_queries.jsonl``, was written by hand from 30 abstracts of the HF
dataset (../shared/data/hf_daily_papers.jsonl): each query paraphrases what the paper does or asks
("descriptive") or is a question it answers ("question"); the titles were held out (no query
repeats a title's distinctive name). The catalog is the first ``--papers`` papers of the dataset
(they include every target), imported, embedded (whole abstracts and sentences) and indexed by the
product's own code into a SQLite database under ``--work`` (kept: reruns reuse the vectors).

Runs, each the product's code: keyword only, meaning only, hybrid (today's search: RRF of both,
with the semantic floor), and hybrid re-ranked with sentence-level matching (the query's cosine
with each candidate's best sentence, fused with the whole-abstract cosine and the keyword rank by
``alignment.fuse_similar`` with the weights tuned for similar papers on CSFCube: nothing is tuned on
these queries). Metrics: MRR@10, hits@1, hits@10 of the one paper each query was written from.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HF = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
QUERIES = ROOT / "bench" / "data" / "hf_queries.jsonl"


def build(work: Path, papers: int):  # type: ignore[no-untyped-def]
    from rich.progress import Progress
    from sqlalchemy import func, select

    from dailypapers.store import Paper

    from dailypapers.search.embedder import count_candidates, embed_pending
    from dailypapers.search.engine import SearchEngine
    from dailypapers.search.sentence_vectors import count_sentence_candidates, embed_sentences_pending
    from dailypapers.services.imports import import_jsonl
    from dailypapers.settings import Settings
    from dailypapers.store.db import Database

    work.mkdir(parents=True, exist_ok=True)
    subset = work / "papers.jsonl"
    if not subset.exists():
        with open(HF, encoding="utf-8") as src:
            subset.write_text("".join(line for _, line in zip(range(papers), src, strict=False)), encoding="utf-8")
    url = f"sqlite:///{work / 'catalog.db'}"
    settings = Settings(database_url=url, data_dir=work / "var", environment="development", load_sample=False,
                        search_model_cache_dir=ROOT / "var" / "models")
    database = Database(url)
    database.migrate()
    engine = SearchEngine(settings)
    with database.session() as db:
        if not db.scalar(select(func.count()).select_from(Paper)):
            import_jsonl(db=db, paths=[subset])
        with Progress() as bar:
            todo = count_candidates(db=db, model=engine.model)
            task = bar.add_task("abstract vectors", total=todo)
            embed_pending(db=db, provider=engine.provider, batch_size=64, progress=lambda n: bar.advance(task, n))
            todo = count_sentence_candidates(db=db, model=engine.model)
            task = bar.add_task("sentence vectors", total=todo)
            embed_sentences_pending(db=db, provider=engine.provider, batch_size=64,
                                    progress=lambda n: bar.advance(task, n))
        engine.prepare(db)
    return engine, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "hf-queries")
    parser.add_argument("--papers", type=int, default=1000)
    args = parser.parse_args()
    from sqlalchemy import select

    from dailypapers.search.alignment import fuse_similar, title_and_sentences
    from dailypapers.search.query import parse_query
    from dailypapers.search.ranking import rank_query
    from dailypapers.search.sentence_vectors import sentence_vectors_of
    from dailypapers.store import Paper

    engine, database = build(args.work, args.papers)
    queries = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    runs: dict[str, list[int | None]] = {"keyword only": [], "meaning only": [], "hybrid (today)": [],
                                         "hybrid + sentences": []}
    with database.session() as db:
        ids = dict(db.execute(select(Paper.arxiv_id, Paper.id)).all())
        for q in queries:
            target = ids[q["arxiv_id"]]
            vector = engine.embed_query(q["query"])
            ranked = rank_query(engine, parse_query(q["query"]), vector=vector, dense=engine.vectors, limit=200,
                                floor=engine.settings.search_semantic_floor)
            candidates = ranked.ids[:60]
            sentences = sentence_vectors_of(db=db, model=engine.model, paper_ids=candidates)
            best = {pid: float((title_and_sentences(rows)[1] @ vector).max()) for pid, rows in sentences.items()}
            cosine = {pid: float(v @ vector) for pid, v in engine.vectors.vectors_of(candidates).items()}
            reranked = fuse_similar(candidates, cosine=cosine, aligned=best, keyword=ranked.keyword) + ranked.ids[60:]
            for name, order in (("keyword only", ranked.keyword), ("meaning only", ranked.semantic),
                                ("hybrid (today)", ranked.ids), ("hybrid + sentences", reranked)):
                runs[name].append(order.index(target) + 1 if target in order else None)
    styles = [q["style"] for q in queries]
    print(f"\n{len(queries)} hand-written queries over {len(ids):,} HF papers (descriptive "
          f"{styles.count('descriptive')}, question {styles.count('question')})")
    print(f"{'run':24} {'MRR@10':>7} {'hits@1':>7} {'hits@10':>8}")
    results = {}
    for name, ranks in runs.items():
        mrr = sum(1 / r for r in ranks if r and r <= 10) / len(ranks)
        at1 = sum(1 for r in ranks if r == 1)
        at10 = sum(1 for r in ranks if r and r <= 10)
        results[name] = {"mrr10": round(mrr, 3), "hits1": at1, "hits10": at10, "ranks": ranks}
        print(f"{name:24} {mrr:7.3f} {at1:7d} {at10:8d}")
    print(f"load average {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M')}")
    out = ROOT / "bench" / "results" / "search_queries.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"queries": len(queries), "papers": len(ids), "runs": results}, indent=2))
    database.dispose()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
