"""`dailypapers embed` throughput: papers per second on this machine, by engine and settings.

    .venv/bin/python bench/embed_throughput.py                      # 500 abstracts, every run
    .venv/bin/python bench/embed_throughput.py --papers 200 --runs fused-2t-w256 end-to-end

The texts are the first N real HF abstracts (title + abstract, as ``dailypapers embed`` reads
them). Each run is a child process (so thread pools and memory are its own) that embeds them all
after one warm-up batch, and reports papers per second of wall time and per second of CPU time
(the second is what a quiet machine would show per core; on a shared machine wall time depends
on the other work). Runs:

- ``torch-st``: sentence-transformers on PyTorch, batch 32: the engine ``embed`` used before
  (only where the ``torch`` extra is installed; its vectors are the reference for the others);
- ``<graph>-<threads>t-w<window>[-b<batch>][-spin]``: onnxruntime over the graph built from the
  weights (``standard`` operators or ``fused`` onnxruntime kernels), with ``threads`` intra-op
  threads, texts sorted by token count within windows of ``window`` texts (``embed``'s batch of
  papers per transaction) and run ``batch`` (32) at a time padded to the longest of the batch;
  ``-spin`` leaves onnxruntime's busy-waiting threads on (its default);
- ``end-to-end``: the product's ``embed_pending`` with its defaults, into a SQLite database
  holding the N papers (reading, hashing, embedding, writing vectors, committing).

Every run's vectors are compared with the reference (max absolute difference). Results go to
bench/results/embed_throughput.json with the load average before and after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HF_JSONL = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl"
RESULTS = ROOT / "bench" / "results" / "embed_throughput.json"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
RUNS = ["torch-st", "standard-2t-w32-spin", "fused-2t-w32-spin", "fused-2t-w256-spin", "fused-2t-w256",
        "fused-1t-w256", "fused-2t-w256-b8", "fused-2t-w256-b64", "end-to-end"]


def texts(n: int) -> list[str]:
    from dailypapers.search.documents import embedding_text

    out = []
    with open(HF_JSONL, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out.append(embedding_text(rec.get("title") or "", rec.get("abstract") or ""))
            if len(out) == n:
                break
    return out


def _onnx_session(graph: str, threads: int, spin: bool, cache: Path):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    from dailypapers.search.bert_onnx import build_graph
    from dailypapers.search.encoder import load_provider, resolve_model

    provider = load_provider(model=MODEL, cache_dir=cache)
    folder = provider.prepare()  # type: ignore[attr-defined]
    path = folder / "model.onnx"
    if graph == "standard":
        path = cache / "standard.onnx"
        if not path.exists():
            import onnx

            onnx.save(build_graph(Path(resolve_model(MODEL)), fused=False), str(path))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    from tokenizers import Tokenizer

    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]), \
        Tokenizer.from_file(str(folder / "tokenizer.json"))


def child(name: str, n: int, out: Path, cache: Path) -> dict[str, object]:
    """One run in this process: returns its figures and saves its vectors to ``out``."""
    import numpy as np

    docs = texts(n)
    if name == "torch-st":
        import torch
        from sentence_transformers import SentenceTransformer

        from dailypapers.search.encoder import resolve_model

        st = SentenceTransformer(resolve_model(MODEL), device="cpu")
        st.encode(docs[:32], batch_size=32)

        def run() -> np.ndarray:
            return np.asarray(st.encode(docs, batch_size=32, normalize_embeddings=True, convert_to_numpy=True))
        detail = {"engine": f"sentence-transformers on torch {torch.__version__}", "threads": torch.get_num_threads()}
    elif name == "end-to-end":
        return _end_to_end(n, out, cache)
    else:
        from dailypapers.search.encoder import embed_sorted

        parts = name.split("-")
        graph, threads, window = parts[0], int(parts[1].rstrip("t")), int(parts[2].lstrip("w"))
        batch = next((int(p[1:]) for p in parts[3:] if p.startswith("b")), 32)
        session, tokenizer = _onnx_session(graph, threads, "spin" in parts, cache)
        embed_sorted(session, tokenizer.encode_batch(docs[:32]), batch)

        def run() -> np.ndarray:
            chunks = [embed_sorted(session, tokenizer.encode_batch(docs[i:i + window]), batch)
                      for i in range(0, len(docs), window)]
            return np.concatenate(chunks)
        detail = {"engine": "onnxruntime", "graph": graph, "threads": threads, "window": window,
                  "batch": batch, "spinning": "spin" in parts}
    load = os.getloadavg()
    cpu, wall = time.process_time(), time.perf_counter()
    vectors = run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    np.save(out, vectors.astype(np.float32))
    return {**detail, "papers": len(docs), "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "papers_per_s": round(len(docs) / wall, 1), "papers_per_cpu_s": round(len(docs) / cpu, 1),
            "load_before": [round(x, 2) for x in load], "load_after": [round(x, 2) for x in os.getloadavg()]}


def _end_to_end(n: int, out: Path, cache: Path) -> dict[str, object]:
    """``embed_pending`` with the product's defaults over a SQLite database holding the papers."""
    import numpy as np
    from sqlalchemy import select

    from dailypapers.search.embedder import embed_pending
    from dailypapers.search.engine import SearchEngine
    from dailypapers.services.catalog_import import import_records
    from dailypapers.settings import Settings
    from dailypapers.sources.records import PaperRecord
    from dailypapers.store import Embedding, Paper
    from dailypapers.store.db import Database

    work = Path(tempfile.mkdtemp(prefix="embed-bench-"))
    url = f"sqlite:///{work / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=work / "var", environment="development",
                        load_sample=False, search_model_cache_dir=cache)
    database = Database(url)
    database.migrate()
    records = []
    with open(HF_JSONL, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            records.append(PaperRecord(title=rec["title"], abstract=rec.get("abstract") or "",
                                       arxiv_id=rec["arxiv_id"]))
            if len(records) == n:
                break
    engine = SearchEngine(settings)
    with database.session() as db:
        import_records(db=db, records=records)
        engine.provider.embed_documents(["warm up"])
        load = os.getloadavg()
        cpu, wall = time.process_time(), time.perf_counter()
        result = embed_pending(db=db, provider=engine.provider, batch_size=settings.search_embed_batch_size)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        order = {arxiv: i for i, arxiv in enumerate(r.arxiv_id for r in records)}
        rows = db.execute(select(Paper.arxiv_id, Embedding.vector)
                          .join(Embedding, Embedding.paper_id == Paper.id)).all()
    vectors = np.zeros((len(records), 384), dtype=np.float32)
    for arxiv, blob in rows:
        vectors[order[arxiv]] = np.frombuffer(blob, dtype="<f4")
    np.save(out, vectors)
    database.dispose()
    return {"engine": "embed_pending (product defaults)", "batch_size": settings.search_embed_batch_size,
            "embedded": result.embedded, "papers": len(records), "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2), "papers_per_s": round(len(records) / wall, 1),
            "papers_per_cpu_s": round(len(records) / cpu, 1),
            "load_before": [round(x, 2) for x in load], "load_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=500, help="How many real abstracts (default 500).")
    parser.add_argument("--runs", nargs="+", default=RUNS, help=f"Which runs (default: {' '.join(RUNS)}).")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "models",
                        help="Where the ONNX graph is cached (default var/models).")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.papers, args.out, args.cache)))
        return
    import numpy as np

    work = Path(tempfile.mkdtemp(prefix="embed-throughput-"))
    report: dict[str, object] = {
        "benchmark": "dailypapers embed throughput", "model": MODEL, "papers": args.papers,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "runs": {}}
    runs: dict[str, dict[str, object]] = report["runs"]  # type: ignore[assignment]
    reference: np.ndarray | None = None
    for name in args.runs:
        out = work / f"{name}.npy"
        proc = subprocess.run([sys.executable, __file__, "--child", name, "--papers", str(args.papers),
                               "--out", str(out), "--cache", str(args.cache)], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            print(f"{name:24} skipped: {last}", flush=True)
            runs[name] = {"skipped": last}
            continue
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        vectors = np.load(out)
        if reference is None:
            reference = vectors
            figures["reference"] = True
        else:
            figures["max_abs_diff_to_reference"] = float(np.abs(vectors - reference).max())
        runs[name] = figures
        print(f"{name:24} {figures['papers_per_s']:7.1f} papers/s  {figures['papers_per_cpu_s']:7.1f} per CPU-s"
              f"  diff {figures.get('max_abs_diff_to_reference', 0):.1e}  load {figures['load_before'][0]:.1f}",
              flush=True)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
