"""An ONNX graph of a sentence-transformers BERT model, built from its safetensors weights.

No PyTorch: the weights are read from ``model.safetensors`` with numpy and the graph is written
with ``onnx``'s helper API. The graph is the whole sentence-transformers pipeline of
all-MiniLM-L6-v2 and its kin: BERT (embeddings, N encoder layers, post-LayerNorm, exact GELU; by
default as onnxruntime's fused Attention / SkipLayerNormalization / BiasGelu kernels),
mean pooling over the attention mask, L2 normalisation. Inputs ``input_ids`` and
``attention_mask`` (int64, ``[batch, tokens]``); output ``embedding`` (float32, ``[batch, dim]``).

Vectors equal those of sentence-transformers on PyTorch to ~1e-6 (checked against the shipped
sample vectors by tests/search/test_encoder.py; bench/embed_throughput.py compares 500 abstracts).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
OPSET = 17  # LayerNormalization
MS = "com.microsoft"  # onnxruntime's contrib operators


class UnsupportedModel(ValueError):
    """The folder holds a model this builder does not know how to translate."""


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a ``.safetensors`` file (an 8-byte header length, a JSON header, raw data)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    (length,) = struct.unpack("<Q", raw[:8].tobytes())
    header = json.loads(raw[8:8 + length].tobytes())
    base = 8 + length
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise UnsupportedModel(f"{path}: tensor {name} has dtype {info['dtype']}")
        start, end = info["data_offsets"]
        data = np.frombuffer(raw[base + start:base + end].tobytes(), dtype=_DTYPES[info["dtype"]])
        tensors[name] = data.reshape(info["shape"]).astype(np.float32 if info["dtype"] == "F16" else data.dtype)
    return tensors


def model_config(folder: Path) -> dict[str, Any]:
    """``config.json`` checked for what the builder supports, plus the pooling and length settings."""
    config: dict[str, Any] = json.loads((folder / "config.json").read_text())
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu" \
            or config.get("position_embedding_type", "absolute") != "absolute":
        raise UnsupportedModel(f"{folder}: only BERT models with GELU and absolute positions are built")
    pooling_file = folder / "1_Pooling" / "config.json"
    pooling = json.loads(pooling_file.read_text()) if pooling_file.exists() else {"pooling_mode_mean_tokens": True}
    if not pooling.get("pooling_mode_mean_tokens") or any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                     "pooling_mode_mean_sqrt_len_tokens")):
        raise UnsupportedModel(f"{folder}: only mean pooling is built")
    modules = json.loads((folder / "modules.json").read_text()) if (folder / "modules.json").exists() else []
    if not any(m.get("type", "").endswith("Normalize") for m in modules):
        raise UnsupportedModel(f"{folder}: the model does not normalise its vectors")
    st_file = folder / "sentence_bert_config.json"
    st_config = json.loads(st_file.read_text()) if st_file.exists() else {}
    config["max_seq_length"] = int(st_config.get("max_seq_length", config["max_position_embeddings"]))
    return config


class _Graph:
    """Nodes and initializers under construction, with fresh names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._n = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", **attrs: Any) -> str:
        from onnx import helper

        self._n += 1
        out = f"{op_type.lower()}_{self._n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, domain=domain, **attrs))
        return out

    def linear(self, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
        """``x @ W.T + b`` of a torch ``nn.Linear`` (weights stored ``[out, in]``)."""
        w = self.const(f"{prefix}.weight_t", weights[f"{prefix}.weight"].T)
        b = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("Add", self.op("MatMul", x, w), b)

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], prefix: str, eps: float) -> str:
        scale = self.const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)


def build_graph(folder: Path, *, fused: bool = True) -> Any:
    """The ``onnx.ModelProto`` of the sentence-transformers model in ``folder``.

    ``fused``: each layer as onnxruntime's own kernels (``com.microsoft`` Attention,
    SkipLayerNormalization, BiasGelu: what its transformer optimiser makes of an exported BERT),
    instead of standard ONNX operators only, which onnxruntime does not fuse into attention.
    """
    from onnx import TensorProto, checker, helper

    config = model_config(folder)
    weights = read_safetensors(folder / "model.safetensors")
    weights = {k.removeprefix("bert."): v for k, v in weights.items()}
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    head_dim, eps = hidden // heads, float(config["layer_norm_eps"])
    g = _Graph()

    # Embeddings: word + token type 0 + position, then LayerNorm (token types are always 0 here).
    word = g.const("word_embeddings", weights["embeddings.word_embeddings.weight"])
    type0 = g.const("token_type_0", weights["embeddings.token_type_embeddings.weight"][0])
    positions = g.const("position_embeddings", weights["embeddings.position_embeddings.weight"])
    zero, one = g.const("i64_0", np.array([0], np.int64)), g.const("i64_1", np.array([1], np.int64))
    seq_len = g.op("Slice", g.op("Shape", "input_ids"), one, g.const("i64_2", np.array([2], np.int64)))
    pos = g.op("Slice", positions, zero, seq_len, zero)
    x = g.op("Add", g.op("Add", g.op("Gather", word, "input_ids", axis=0), type0), pos)
    x = g.layer_norm(x, weights, "embeddings.LayerNorm", eps)

    # Attention bias: 0 where the mask is 1, a large negative number where it is 0; [B, 1, 1, S].
    mask_f = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    if fused:
        g.nodes.append(helper.make_node("Cast", ["attention_mask"], ["mask_i32"], name="mask_i32",
                                        to=TensorProto.INT32))
    else:
        mask4 = g.op("Unsqueeze", mask_f, g.const("axes_1_2", np.array([1, 2], np.int64)))
        neg = g.const("mask_neg", np.array(np.finfo(np.float32).min, np.float32))
        bias = g.op("Mul", g.op("Sub", g.const("f32_1", np.array(1.0, np.float32)), mask4), neg)
        split_heads = g.const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
        merge_heads = g.const("merge_heads", np.array([0, 0, hidden], np.int64))
        scale = g.const("attn_scale", np.array(1.0 / math.sqrt(head_dim), np.float32))

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        if fused:
            x = _fused_layer(g, x, weights, p, heads=heads, eps=eps)
            continue

        def heads_of(x: str, name: str, perm: list[int], p: str = p) -> str:
            return g.op("Transpose", g.op("Reshape", g.linear(x, weights, f"{p}.attention.self.{name}"),
                                          split_heads), perm=perm)

        q = heads_of(x, "query", [0, 2, 1, 3])  # [B, H, S, D]
        k = heads_of(x, "key", [0, 2, 3, 1])  # [B, H, D, S]
        v = heads_of(x, "value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        attended = g.linear(context, weights, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", attended, x), weights, f"{p}.attention.output.LayerNorm", eps)
        inner = g.linear(x, weights, f"{p}.intermediate.dense")
        # Exact GELU, as BERT's "gelu": 0.5 x (1 + erf(x / sqrt 2)).
        erf = g.op("Erf", g.op("Div", inner, g.const(f"{p}.sqrt2", np.array(math.sqrt(2.0), np.float32))))
        inner = g.op("Mul", g.op("Mul", inner, g.op("Add", erf, g.const(f"{p}.one", np.array(1.0, np.float32)))),
                     g.const(f"{p}.half", np.array(0.5, np.float32)))
        out = g.linear(inner, weights, f"{p}.output.dense")
        x = g.layer_norm(g.op("Add", out, x), weights, f"{p}.output.LayerNorm", eps)

    # Mean pooling over real tokens, then L2 normalisation (sentence-transformers' clamps included).
    mask3 = g.op("Unsqueeze", mask_f, g.const("axes_2", np.array([2], np.int64)))
    summed = g.op("ReduceSum", g.op("Mul", x, mask3), one, keepdims=0)
    counts = g.op("Clip", g.op("ReduceSum", mask3, one, keepdims=0),
                  g.const("f32_1e-9", np.array(1e-9, np.float32)))
    pooled = g.op("Div", summed, counts)
    norm = g.op("Clip", g.op("ReduceL2", pooled, axes=[1], keepdims=1),
                g.const("f32_1e-12", np.array(1e-12, np.float32)))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"], name="normalize"))

    tokens = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes, "sentence_embedding",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, tokens),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, tokens)],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers)
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(MS, 1)] if fused else [])
    model = helper.make_model(graph, opset_imports=opsets,
                              producer_name="dailypapers")
    model.ir_version = 8  # readable by every onnxruntime the dependency range allows
    checker.check_model(model, full_check=False)
    return model


def _fused_layer(g: _Graph, x: str, weights: dict[str, np.ndarray], p: str, *, heads: int, eps: float) -> str:
    """One encoder layer as onnxruntime contrib operators (same maths as the standard layer).

    Attention takes Q, K and V as one packed ``[hidden, 3 hidden]`` projection and the raw
    ``[batch, tokens]`` mask; SkipLayerNormalization is ``LayerNorm(x + skip + bias)``; BiasGelu
    is the exact (erf) GELU of ``x + bias``.
    """
    a = f"{p}.attention.self"
    qkv_w = np.concatenate([weights[f"{a}.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
    qkv_b = np.concatenate([weights[f"{a}.{n}.bias"] for n in ("query", "key", "value")])
    context = g.op("Attention", x, g.const(f"{a}.qkv_weight", qkv_w), g.const(f"{a}.qkv_bias", qkv_b),
                   "mask_i32", domain=MS, num_heads=heads)

    def skip_norm(y: str, dense: str, norm: str, residual: str) -> str:
        w = g.const(f"{dense}.weight_t", weights[f"{dense}.weight"].T)
        return g.op("SkipLayerNormalization", g.op("MatMul", y, w), residual,
                    g.const(f"{norm}.weight", weights[f"{norm}.weight"]),
                    g.const(f"{norm}.bias", weights[f"{norm}.bias"]),
                    g.const(f"{dense}.bias", weights[f"{dense}.bias"]), domain=MS, epsilon=eps)

    x = skip_norm(context, f"{p}.attention.output.dense", f"{p}.attention.output.LayerNorm", x)
    inter = f"{p}.intermediate.dense"
    inner = g.op("BiasGelu", g.op("MatMul", x, g.const(f"{inter}.weight_t", weights[f"{inter}.weight"].T)),
                 g.const(f"{inter}.bias", weights[f"{inter}.bias"]), domain=MS)
    return skip_norm(inner, f"{p}.output.dense", f"{p}.output.LayerNorm", x)
