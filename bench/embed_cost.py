"""`dailypapers embed` CPU per paper: the whole-abstract vector alone, and with the sentence rows
(title + abstract sentences, issue 15).

    .venv/bin/python bench/embed_cost.py --papers 200

The first N real HF papers go into a fresh SQLite database; the product's ``embed_pending`` (one
vector per paper) and then ``embed_sentences_pending`` (one row per paper: the title's vector, then
one per sentence) run over them, each timed in process CPU seconds (all threads: steadier than
wall time on this shared machine). The sentence step is split into what the title vectors and the
sentences cost by embedding each set alone with the same provider. JSON to stdout and to
bench/results/embed_cost.json, with the machine and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from machine_facts import load_average, machine  # bench/machine_facts.py

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "embed_cost.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=200)
    args = parser.parse_args()
    from dailypapers.search.embedder import embed_pending
    from dailypapers.search.engine import SearchEngine
    from dailypapers.search.sentence_vectors import embed_sentences_pending
    from dailypapers.search.sentences import paper_items
    from dailypapers.services.catalog import import_records
    from dailypapers.settings import Settings
    from dailypapers.sources.records import PaperRecord
    from dailypapers.store.db import Database

    papers = []
    with open(HF_JSONL, encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            if paper.get("title") and paper.get("abstract"):
                papers.append((paper["title"], paper["abstract"]))
            if len(papers) == args.papers:
                break
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="dp-embed-cost-"))
    url = f"sqlite:///{tmp / 'embed.db'}"
    settings = Settings(database_url=url, data_dir=tmp, environment="development", load_sample=False,
                        search_model_cache_dir=ROOT / "var" / "models")
    database = Database(url)
    database.migrate()
    engine = SearchEngine(settings)
    engine.provider.embed_documents(["warm up the model once"])
    with database.session() as db:
        import_records(db=db, records=[PaperRecord(title=t, abstract=a, arxiv_id=f"9100.{i:05d}")
                                       for i, (t, a) in enumerate(papers)])
        db.commit()
        c = time.process_time()
        embed_pending(db=db, provider=engine.provider)
        abstracts = time.process_time() - c
        c = time.process_time()
        rows = embed_sentences_pending(db=db, provider=engine.provider)
        sentence_rows = time.process_time() - c
    items = [paper_items(t, a) for t, a in papers]
    titles = [i[0] for i in items if i and i[0]]
    sentences = [s for i in items for s in i[1:]]
    c = time.process_time()
    engine.provider.embed_documents(titles)
    titles_alone = time.process_time() - c
    c = time.process_time()
    engine.provider.embed_documents(sentences)
    sentences_alone = time.process_time() - c
    database.dispose()
    n = len(papers)
    per = lambda seconds: round(1000 * seconds / n, 1)  # noqa: E731
    result = {
        "benchmark": "dailypapers embed CPU per paper", "papers": n, "sentence_rows_embedded": rows.embedded,
        "vectors_per_paper": {"whole_abstract": 1, "sentence_row": round(sum(map(len, items)) / n, 2),
                              "of_which_title": round(len(titles) / n, 2),
                              "of_which_sentences": round(len(sentences) / n, 2)},
        "cpu_ms_per_paper": {
            "whole_abstract_vector (embed before issue 15)": per(abstracts),
            "sentence rows (title + sentences)": per(sentence_rows),
            "embed total with sentence rows": per(abstracts + sentence_rows),
            "titles alone": per(titles_alone), "sentences alone": per(sentences_alone),
            "embed total with sentences, no title (before the title vector)": per(abstracts + sentences_alone),
        },
        "machine": machine(shared=True), "load_average": load_average(load_before),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
