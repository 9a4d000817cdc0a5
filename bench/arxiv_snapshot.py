"""Writes an arXiv metadata snapshot of any size from the real HF records, for benchmarks.

    .venv/bin/python bench/arxiv_snapshot.py out.jsonl --records 1000000 [--gzip]

The format is the one arXiv's snapshot documents (one JSON object per line: ``id, submitter,
authors, title, comments, journal-ref, doi, report-no, categories, license, abstract,
versions[{version, created}], update_date, authors_parsed``). Titles, abstracts and author names
come from ``../shared/data/hf_daily_papers.jsonl`` (11,027 real papers); record *i* reuses paper
``i mod 11,027``, so to keep a million papers distinct (as the real snapshot's are) each reuse
gets its own id and a title ending in its round number. One record in ten has an old-style id
(``hep-th/9901001``-shaped, 18 archives), a third have 2-4 versions, one in twenty a GitHub link
in the comments, and the categories follow a fixed mix of 24 real ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"

OLD_ARCHIVES = ["hep-th", "hep-ph", "hep-ex", "hep-lat", "astro-ph", "cond-mat", "gr-qc", "quant-ph",
                "math", "nucl-th", "nucl-ex", "physics", "math-ph", "nlin", "cs", "q-bio", "chao-dyn",
                "solv-int"]
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "cs.IR", "cs.NE", "cs.CR",
              "math.OC", "math.ST", "eess.AS", "eess.IV", "q-bio.NC", "physics.comp-ph", "hep-th",
              "hep-ph", "astro-ph.GA", "cond-mat.stat-mech", "quant-ph", "gr-qc", "math.AG",
              "math.PR", "econ.EM"]
LICENSES = [None, "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
            "http://creativecommons.org/licenses/by/4.0/"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _rfc2822(when: dt.datetime) -> str:
    return (f"{DAYS[when.weekday()]}, {when.day} {MONTHS[when.month - 1]} {when.year} "
            f"{when:%H:%M:%S} GMT")


def _load_hf(path: Path) -> list[dict[str, Any]]:
    papers = []
    with open(path, "rb") as fh:
        for line in fh:
            obj = json.loads(line)
            if obj.get("title") and obj.get("authors"):
                papers.append(obj)
    return papers


def _record(i: int, paper: dict[str, Any], rng: random.Random, round_no: int) -> dict[str, Any]:
    published = dt.datetime.fromisoformat((paper.get("published_at") or "2024-01-01")[:19])
    if i % 10 == 9:  # old-style archive/YYMMNNN (1992-2006): unique by (archive, month, number)
        k = i // 10
        month, number = k // len(OLD_ARCHIVES) % 180, k // (len(OLD_ARCHIVES) * 180)
        year = 1992 + month // 12
        arxiv_id = f"{OLD_ARCHIVES[k % len(OLD_ARCHIVES)]}/{year % 100:02d}{month % 12 + 1:02d}{number:03d}"
        published = dt.datetime(year, month % 12 + 1, 1 + i % 28, 12, 0, 0)
    else:  # new-style YYMM.NNNNN (2007-2024), unique per record
        month = i % 216
        arxiv_id = f"{7 + month // 12:02d}{month % 12 + 1:02d}.{i // 216:05d}"
    n_versions = 1 if rng.random() < 0.67 else rng.randint(2, 4)
    versions = []
    when = published
    for v in range(1, n_versions + 1):
        versions.append({"version": f"v{v}", "created": _rfc2822(when)})
        when += dt.timedelta(days=rng.randint(1, 200), seconds=rng.randint(0, 86_399))
    authors: list[str] = paper["authors"]
    parsed = []
    for name in authors:
        first, _, last = name.rpartition(" ")
        parsed.append([last, first, ""])
    comments = f"{rng.randint(4, 40)} pages, {rng.randint(1, 12)} figures"
    if paper.get("github_repo") and rng.random() < 0.5:
        comments += f"; code at {paper['github_repo']}"
    primary = CATEGORIES[i % len(CATEGORIES)]
    cats = [primary] + [c for c in rng.sample(CATEGORIES, rng.randint(0, 2)) if c != primary]
    title = paper["title"] if round_no == 0 else f"{paper['title']} {round_no}"
    return {
        "id": arxiv_id,
        "submitter": authors[0],
        "authors": ", ".join(authors[:-1]) + (" and " if len(authors) > 1 else "") + authors[-1],
        "title": title,
        "comments": comments if rng.random() < 0.8 else None,
        "journal-ref": None,
        "doi": f"10.48550/arXiv.{arxiv_id}" if rng.random() < 0.3 else None,
        "report-no": None,
        "categories": " ".join(cats),
        "license": rng.choice(LICENSES),
        "abstract": "  " + (paper.get("abstract") or "") + "\n",
        "versions": versions,
        "update_date": when.date().isoformat(),
        "authors_parsed": parsed,
    }


def write_snapshot(path: Path, records: int, *, gzipped: bool = False, seed: int = 7,
                   hf_path: Path = HF_JSONL) -> dict[str, Any]:
    """Write ``records`` snapshot lines to ``path``; returns the shape of what was written."""
    rng = random.Random(seed)
    papers = _load_hf(hf_path)
    old_style = multi_version = 0
    out: IO[bytes]
    with (gzip.open(path, "wb", compresslevel=1) if gzipped else open(path, "wb")) as out:
        for i in range(records):
            record = _record(i, papers[i % len(papers)], rng, i // len(papers))
            old_style += "/" in record["id"]
            multi_version += len(record["versions"]) > 1
            out.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    return {"records": records, "source_papers": len(papers), "old_style_ids": old_style,
            "multi_version": multi_version, "gzip": gzipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    print(write_snapshot(args.out, args.records, gzipped=args.gzip))


if __name__ == "__main__":
    main()
