"""ONNX export through PyTorch, for embedding models the graph builder does not translate.

Only operators who choose such a model (a non-BERT architecture, or a Hub name that
sentence-transformers downloads) need it: ``pip install 'dailypapers[torch]'``. The bundled
all-MiniLM-L6-v2 never comes here (search/bert_onnx.py builds its graph from the weights).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from dailypapers.search.encoder import ModelUnavailable


def export_with_torch(source: str, folder: Path) -> tuple[Any, int]:
    """Write ``model.onnx`` of the whole sentence-transformers pipeline (encoder, pooling,
    normalisation) into ``folder``; returns its tokenizer (a ``tokenizers.Tokenizer``) and the
    model's maximum sequence length."""
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelUnavailable(
            f"embedding model {source!r} needs PyTorch to be converted to ONNX once: "
            "pip install 'dailypapers[torch]' (the bundled model does not)") from exc
    from tokenizers import Tokenizer

    try:
        st = SentenceTransformer(source, device="cpu")
    except OSError as exc:
        raise ModelUnavailable(f"cannot load embedding model {source!r}: {exc}") from exc

    class Pipeline(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.inner({"input_ids": input_ids, "attention_mask": attention_mask})
            return out["sentence_embedding"]

    ids = torch.ones((1, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pipeline(st).eval(), (ids, torch.ones_like(ids)), str(folder / "model.onnx"),
            input_names=["input_ids", "attention_mask"], output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False)
    return Tokenizer.from_str(st.tokenizer.backend_tokenizer.to_str()), int(st.max_seq_length or 512)
