"""Quality of "For you" (issue 14 item 7): do an author's own later papers come up for them?

    .venv/bin/python bench/recommend.py                       # embeds the 11,027 papers once (minutes), cached
    .venv/bin/python bench/recommend.py --cache /work/cache/foryou --every 4   # a quarter of the authors
    .venv/bin/python bench/recommend.py --half dev --every 4   # tune on the dev half, report --half test

Protocol, on ../shared/data/hf_daily_papers.jsonl. Papers are dated by the day they were featured.
For every author with at least 6 papers, their papers in date order are split in two halves: the
earlier half is the profile (as if the member had saved those papers, newest first), and the
split day is the day of the profile's last paper. The candidates are *all* papers featured in the
90 days after the split day; the targets are the author's own papers among them. Authors with no
paper in that window are skipped (nothing to find). Rankers see titles, abstracts, vectors,
upvotes and dates, never author names. Scores: recall@20 (targets in the first 20 / targets) and
nDCG@20 (binary gains), averaged over authors.

- ``popularity``: the candidates by upvotes (the dataset's counts);
- ``trending``: the product's formula (``services.trending.trending_score``) on the window's last day;
- ``bm25 profile``: BM25 (k1 = 1.2, b = 0.75, idf over the whole dataset) with the profile's titles
  and abstracts as one query, each term weighted by how often the profile uses it;
- ``profile (zotero)``: ``search.recommend.profile_scores`` alone (recency-weighted cosine);
- ``classifier (arxiv-sanity)``: the per-member logistic regression alone, with the ``--background``
  papers featured last before the split day (not in the profile) as negatives;
- ``for you``: ``search.recommend.rank_for_member``, what the product ranks with (each kept paper as a
  BM25 query, the whole profile as one, and the closest kept paper, z-scored and summed;
  ``--weights`` to try others). The product's classifier needs dismissals, which no author here
  has, so it is not part of this ranking unless ``--background-classifier`` gives it the one
  trained on background papers;
- for reference: ``max cosine`` (the closest kept paper alone) and fusions with the BM25 list
  (``for you + bm25``, ``profile + classifier + bm25``, ``max + bm25``), which the product does not use.

Vectors come from bench/recommend_vectors.py (the product's encoder; cached under ``--cache``,
computed with a progress bar when missing). Figures, the dataset's size, the machine and its load
average go to bench/results/recommend.json.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import math
import os
import sys
import time
from pathlib import Path

from machine_facts import machine  # bench/machine_facts.py

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "recommend.json"
MIN_PAPERS = 6
WINDOW_DAYS = 90
AT = 20
K1, B = 1.2, 0.75


def load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    for row in rows:
        row["day"] = dt.date.fromisoformat(row["featured_on"][:10])
    return rows


class Bm25:
    """BM25 over every paper of the dataset; ``scores`` ranks a subset for a bag-of-words query."""

    def __init__(self, rows: list[dict]) -> None:
        from dailypapers.search.analysis import STOPWORDS, Analyzers

        analyzers = Analyzers()
        docs = [collections.Counter(t for t in analyzers.terms(f"{r['title']} {r.get('abstract') or ''}")
                                    if t not in STOPWORDS) for r in rows]
        self.doc_terms = docs
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
        avg = lengths.mean()
        postings: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
        for i, doc in enumerate(docs):
            norm = K1 * (1 - B + B * lengths[i] / avg)
            for term, tf in doc.items():
                postings[term].append((i, tf * (K1 + 1) / (tf + norm)))
        n = len(docs)
        self.postings = {t: (np.array([i for i, _ in p]), np.array([w for _, w in p])) for t, p in postings.items()}
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        self.n = n

    def scores(self, query: collections.Counter) -> np.ndarray:
        out = np.zeros(self.n)
        for term, qtf in query.items():
            if term in self.postings:
                ids, weights = self.postings[term]
                out[ids] += qtf * self.idf[term] * weights
        return out


def metrics(ranked: list[int], targets: set[int]) -> tuple[float, float]:
    top = ranked[:AT]
    hits = [1.0 if i in targets else 0.0 for i in top]
    dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
    ideal = sum(1 / math.log2(r + 2) for r in range(min(len(targets), AT)))
    return sum(hits) / len(targets), dcg / ideal


def order(scores: np.ndarray, ids: np.ndarray) -> list[int]:
    return [int(ids[i]) for i in np.argsort(-scores, kind="stable")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="The HF daily papers JSON Lines file.")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench" / "recommend",
                        help="Where the vectors are cached (computed when missing).")
    parser.add_argument("--every", type=int, default=1, help="Evaluate every N-th author only (quicker runs).")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where the JSON goes.")
    parser.add_argument("--half", choices=["all", "dev", "test"], default="all",
                        help="Authors in alphabetical order alternate dev, test: tune on dev, report test.")
    parser.add_argument("--weights", type=json.loads, default=None,
                        help='Override search.recommend.FEATURE_WEIGHTS (tuning), e.g. \'{"classifier": 0}\'.')
    parser.add_argument("--background", type=int, default=300,
                        help="Negatives of the classifier: this many papers featured last before the split.")
    parser.add_argument("--background-classifier", action="store_true",
                        help="Give For you the classifier trained on background negatives alone (the product "
                             "trains one only with MIN_DISMISSED dismissals, which no author here has).")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads when embedding (0: one per core).")
    args = parser.parse_args()

    from bench.recommend_vectors import load_or_embed
    from dailypapers.search import lexical_profile, recommend
    from dailypapers.search.fusion import reciprocal_rank_fusion
    from dailypapers.services.trending import trending_score

    load_before = os.getloadavg()
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = load(args.data)
    vectors = load_or_embed(rows, args.cache, threads=args.threads).astype(np.float64)
    bm25 = Bm25(rows)
    by_date = sorted(range(len(rows)), key=lambda i: (rows[i]["day"], rows[i]["arxiv_id"]))
    days = np.array([rows[i]["day"].toordinal() for i in by_date])
    sorted_ids = np.array(by_date)
    upvotes = np.array([rows[i].get("upvotes") or 0 for i in range(len(rows))], dtype=np.float64)

    papers_of: dict[str, list[int]] = collections.defaultdict(list)
    for i, row in enumerate(rows):
        for name in set(row.get("authors") or []):
            papers_of[name].append(i)
    authors = sorted(a for a, p in papers_of.items() if len(p) >= MIN_PAPERS)
    authors = {"all": authors, "dev": authors[0::2], "test": authors[1::2]}[args.half][::args.every]
    if args.weights:
        recommend.FEATURE_WEIGHTS.update(args.weights)
    bags = lexical_profile.BagCache(size=len(rows))
    bag_of = [bags.bag(i, r["title"], r.get("abstract") or "") for i, r in enumerate(rows)]

    names = ["popularity", "trending", "bm25 profile", "profile (zotero)", "classifier (arxiv-sanity)", "for you",
             "max cosine", "for you + bm25", "profile + classifier + bm25", "max + bm25"]
    sums = {name: [0.0, 0.0] for name in names}
    evaluated = 0
    classifier_used = 0
    candidate_counts: list[int] = []
    rank_cpu = 0.0
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("ranking for authors"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    task = progress.add_task("authors", total=len(authors))
    progress.start()
    for author in authors:
        progress.advance(task)
        mine = sorted(papers_of[author], key=lambda i: (rows[i]["day"], rows[i]["arxiv_id"]))
        profile = mine[: len(mine) // 2]
        split = rows[profile[-1]]["day"].toordinal()
        lo, hi = np.searchsorted(days, split, side="right"), np.searchsorted(days, split + WINDOW_DAYS, side="right")
        candidates = sorted_ids[lo:hi]
        targets = {i for i in mine[len(profile):] if split < rows[i]["day"].toordinal() <= split + WINDOW_DAYS}
        if not targets or len(candidates) == 0:
            continue
        evaluated += 1
        candidate_counts.append(len(candidates))
        cand = vectors[candidates]
        kept = vectors[profile[::-1]]  # newest first
        before = sorted_ids[max(0, lo - args.background - len(profile)):lo]
        background = vectors[[i for i in before if i not in set(profile)][-args.background:]]
        end = dt.datetime.fromordinal(split + WINDOW_DAYS + 1)
        trend = np.array([trending_score(upvotes=int(upvotes[i]),
                                         age_hours=(end - dt.datetime.fromordinal(int(days[lo + j]))).total_seconds()
                                         / 3600) for j, i in enumerate(candidates)])
        query: collections.Counter = collections.Counter()
        for i in profile:
            query.update(bm25.doc_terms[i])
        t0 = time.process_time()
        zotero, _ = recommend.profile_scores(cand, kept, recommend.recency_weights(len(kept)))
        model = recommend.train_member_model(kept, np.zeros((0, cand.shape[1])), background, min_dismissed=0)
        # no author has dismissals, so the product's ranker leaves its classifier out
        # (search.recommend.MIN_DISMISSED) unless --background-classifier hands it this one
        fused = recommend.rank_for_member(cand, kept, background=background,
                                          model=model if args.background_classifier else None,
                                          candidate_bags=[bag_of[i] for i in candidates],
                                          kept_bags=[bag_of[i] for i in profile[::-1]])
        rank_cpu += time.process_time() - t0
        rankings = {
            "popularity": order(upvotes[candidates], candidates),
            "trending": order(trend, candidates),
            "bm25 profile": order(bm25.scores(query)[candidates], candidates),
            "profile (zotero)": order(zotero, candidates),
            "classifier (arxiv-sanity)": order(model.decision(cand), candidates) if model else
            order(zotero, candidates),
            "for you": [int(candidates[r.index]) for r in fused],
        }
        rankings["max cosine"] = order((cand @ kept.T).max(axis=1), candidates)
        rankings["for you + bm25"] = [i for i, _ in reciprocal_rank_fusion(
            [rankings["for you"], rankings["bm25 profile"]])]
        rankings["profile + classifier + bm25"] = [i for i, _ in reciprocal_rank_fusion(
            [rankings["profile (zotero)"], rankings["classifier (arxiv-sanity)"], rankings["bm25 profile"]])]
        rankings["max + bm25"] = [i for i, _ in reciprocal_rank_fusion(
            [rankings["max cosine"], rankings["bm25 profile"]])]
        classifier_used += model is not None
        for name, ranked in rankings.items():
            recall, ndcg = metrics(ranked, targets)
            sums[name][0] += recall
            sums[name][1] += ndcg
    progress.stop()
    scores = {name: {"recall@20": round(r / evaluated, 4), "ndcg@20": round(n / evaluated, 4)}
              for name, (r, n) in sums.items()}
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    reference = max(scores["popularity"]["recall@20"], scores["trending"]["recall@20"])
    ours, bm = scores["for you"]["recall@20"], scores["bm25 profile"]["recall@20"]
    goals = {"x_popularity_recall@20": round(ours / reference, 2) if reference else None,
             "vs_bm25_recall@20": round(ours / bm - 1, 3) if bm else None}
    print(f"\n{len(rows)} papers; {evaluated} authors with >= {MIN_PAPERS} papers and a paper in the "
          f"{WINDOW_DAYS} days after their split (of {len(authors)} taken); candidates per author: "
          f"median {int(np.median(candidate_counts))}")
    print(f"{'ranker':28} {'recall@20':>10} {'nDCG@20':>8}")
    for name, s in scores.items():
        print(f"{name:28} {s['recall@20']:10.4f} {s['ndcg@20']:8.4f}")
    print(f"\ngoal >= 3x the better of popularity/trending recall@20: {goals['x_popularity_recall@20']}x "
          f"({'met' if reference and ours >= 3 * reference else 'NOT met'}); goal >= 20 % above bm25 profile: "
          f"{100 * (goals['vs_bm25_recall@20'] or 0):+.1f} % ({'met' if bm and ours >= 1.2 * bm else 'NOT met'})")
    print(f"classifier trained for {classifier_used} of {evaluated} authors; ranking CPU {rank_cpu:.1f} s; "
          f"wall {wall:.0f} s, CPU {cpu:.0f} s, load average {os.getloadavg()[0]:.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "HF daily papers: authors' later papers among the next 90 days (issue 14 item 7)",
        "dataset": {"path": str(args.data.name), "papers": len(rows), "authors_taken": len(authors),
                    "authors_evaluated": evaluated, "every": args.every, "half": args.half,
                    "median_candidates": int(np.median(candidate_counts))},
        "settings": {"min_papers": MIN_PAPERS, "window_days": WINDOW_DAYS, "at": AT, "background": args.background,
                     "min_positives": recommend.MIN_POSITIVES, "l2": recommend.L2, "bm25": {"k1": K1, "b": B},
                     "feature_weights": recommend.FEATURE_WEIGHTS,
                     "min_dismissed": recommend.MIN_DISMISSED, "background_classifier": args.background_classifier,
                     "title_weight": lexical_profile.TITLE_WEIGHT},
        "scores": scores, "goals": goals, "classifier_trained": classifier_used,
        "seconds": {"wall": round(wall, 1), "cpu": round(cpu, 1), "ranking_cpu": round(rank_cpu, 1)},
        "machine": machine(load_average_before=load_before, load_average_after=os.getloadavg()),
    }, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    main()
