"""The ONNX graph built from the packaged weights (no PyTorch) gives today's vectors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from dailypapers.search.bert_onnx import UnsupportedModel, model_config
from dailypapers.search.bundle import load_bundle
from dailypapers.search.documents import content_hash, embedding_text
from dailypapers.search.engine import SearchEngine
from dailypapers.services.imports import import_seeds
from dailypapers.services.sample import SAMPLE_YEAR, sample_paths
from dailypapers.store import Paper

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def test_vectors_equal_the_shipped_sample_vectors(db, settings):
    """The shipped vectors were computed by sentence-transformers on PyTorch (before this engine)."""
    import_seeds(db=db, paths=sample_paths(), year=SAMPLE_YEAR)
    shipped, _ = load_bundle(MODEL)
    texts, expected = [], []
    for title, abstract in db.execute(select(Paper.title, Paper.abstract)).all():
        digest = content_hash(title or "", abstract or "")
        if digest in shipped:
            texts.append(embedding_text(title or "", abstract or ""))
            expected.append(shipped[digest])
    assert len(texts) == len(shipped) >= 180
    provider = SearchEngine(settings).provider
    vectors = provider.embed_documents(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
    assert np.abs(vectors - np.stack(expected)).max() <= 1e-4  # measured: ~2e-7
    # A query runs alone, unpadded, in the one-thread session: the same vector.
    for i in (0, len(texts) // 2, len(texts) - 1):
        assert np.abs(provider.embed_query(texts[i]) - expected[i]).max() <= 1e-4


def test_a_vector_does_not_depend_on_its_batch(settings):
    """Texts are sorted by length and padded per batch: the padding must be fully masked."""
    provider = SearchEngine(settings).provider
    texts = ["sparse attention", "A long abstract about protein structure prediction " * 12,
             "graph neural networks for molecules", "diffusion"]
    together = provider.embed_documents(texts)
    alone = np.stack([provider.embed_documents([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert provider.embed_documents([]).shape[0] == 0


def test_embedding_never_imports_torch(settings):
    """The default install has no PyTorch: documents and queries both run on onnxruntime."""
    code = (
        "import sys, json; from pathlib import Path\n"
        "from dailypapers.search.encoder import load_provider\n"
        f"p = load_provider(model={MODEL!r}, cache_dir=Path(sys.argv[1]))\n"
        "p.embed_documents(['a paper', 'another paper about cats']); p.embed_query('cats')\n"
        "print(json.dumps(sorted(m for m in ('torch', 'sentence_transformers', 'transformers',"
        " 'scipy', 'sklearn') if m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code, str(settings.search_model_cache_dir)],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_a_model_the_builder_does_not_know_is_refused_clearly(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5", "hidden_act": "relu"}))
    with pytest.raises(UnsupportedModel, match="only BERT"):
        model_config(tmp_path)


def test_the_standard_operator_graph_gives_the_same_vectors(settings):
    """The fused graph (onnxruntime's kernels) is the default; plain ONNX operators agree with it."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from dailypapers.search.bert_onnx import build_graph
    from dailypapers.search.encoder import resolve_model

    provider = SearchEngine(settings).provider
    folder = provider.prepare()
    session = ort.InferenceSession(build_graph(Path(resolve_model(MODEL)), fused=False).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    for text in ("sparse attention", "Graph neural networks\nMessage passing on molecular graphs."):
        enc = tokenizer.encode(text)
        plain = session.run(None, {"input_ids": np.asarray([enc.ids]),
                                   "attention_mask": np.asarray([enc.attention_mask])})[0][0]
        assert np.abs(plain - provider.embed_query(text)).max() <= 1e-5
