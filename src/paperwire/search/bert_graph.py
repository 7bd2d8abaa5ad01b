"""Rebuild an exported BERT encoder as a clean ONNX graph of onnxruntime's fused BERT ops.

The packaged MiniLM export spells attention out in ~60 primitive nodes per layer
(reshapes, transposes, a mask built with GatherND, NaN guards). onnxruntime's optimiser
cannot match that pattern, so we read the weights by their Hugging Face names and write
the graph onnxruntime's own BERT tooling produces: `Attention` (one QKV product, no
transposes) and `BiasGelu`; the residual layer norms are plain ops. The maths is the same.
"""

from __future__ import annotations

import numpy as np

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
# onnxruntime's fused CPU layer norm accumulates in double, one element at a time: on
# two AVX2 cores it is ~35% slower than the same maths as vectorised plain ops, which
# makes the whole encoder ~6% slower. Sessions pass these so the plain ops stay unfused.
UNFUSED_OPTIMIZERS = ["LayerNormFusion", "SkipLayerNormFusion", "SimplifiedLayerNormFusion"]


def rebuild_bert(model, *, num_heads: int):
    """A fused-op copy of `model`, an ONNX BERT whose constants are plain fp32 tensors.

    Inputs are `input_ids` and `attention_mask` (token type 0 is folded into the position
    table); the output is `last_hidden_state`.
    """
    from onnx import TensorProto, helper, numpy_helper

    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    prefix = next(n[: -len(WORD_EMBEDDINGS)] for n in weights if n.endswith(WORD_EMBEDDINGS))
    linear = _linear_weights(model, weights)
    hidden = weights[prefix + WORD_EMBEDDINGS].shape[1]
    eps = _layer_norm_epsilon(model)

    inits: dict[str, np.ndarray] = {}
    nodes = []

    def const(name: str, value: np.ndarray) -> str:
        inits[name] = np.ascontiguousarray(value)
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        return output

    epsilon = const("epsilon", np.array(eps, dtype=np.float32))

    def residual_norm(x: str, bias: str, skip: str, gamma: str, beta: str, out: str) -> str:
        """LayerNorm(x + bias + skip), spelt out in plain ops (see UNFUSED_OPTIMIZERS)."""
        summed = node("Add", [node("Add", [x, bias], out + "_xb"), skip], out + "_sum")
        mean = node("ReduceMean", [summed], out + "_mean", axes=[-1])
        centred = node("Sub", [summed, mean], out + "_centred")
        squared = node("Mul", [centred, centred], out + "_sq")
        variance = node("ReduceMean", [squared], out + "_var", axes=[-1])
        std = node("Sqrt", [node("Add", [variance, epsilon], out + "_vareps")], out + "_std")
        scaled = node("Mul", [node("Div", [centred, std], out + "_norm"), gamma], out + "_scaled")
        return node("Add", [scaled, beta], out)

    emb = prefix + "embeddings."
    positions = (
        weights[emb + "position_embeddings.weight"]
        + weights[emb + "token_type_embeddings.weight"][0]
    )
    words = node(
        "Gather",
        [const("word_embeddings", weights[emb + "word_embeddings.weight"]), "input_ids"],
        "words",
    )
    seq_len = node("Shape", ["input_ids"], "seq_len", start=1, end=2)
    zero = const("zero", np.array([0], dtype=np.int64))
    pos = node(
        "Slice", [const("positions", positions.astype(np.float32)), zero, seq_len, zero], "pos"
    )
    summed = node("Add", [words, pos], "embedded")
    state = node(
        "LayerNormalization",
        [
            summed,
            const("emb_ln_w", weights[emb + "LayerNorm.weight"]),
            const("emb_ln_b", weights[emb + "LayerNorm.bias"]),
        ],
        "layer_in_0",
        epsilon=eps,
    )
    mask = node("Cast", ["attention_mask"], "mask_i32", to=TensorProto.INT32)

    layers = sorted({int(k.split(".")[0]) for k in linear})
    for i in layers:
        w = {role: linear[f"{i}.{role}"] for role in _ROLES}
        qkv_w = np.concatenate([w[r][0] for r in _QKV], axis=1)
        qkv_b = np.concatenate([w[r][1] for r in _QKV])
        ln = f"{prefix}encoder.layer.{i}."
        context = node(
            "Attention",
            [state, const(f"l{i}_qkv_w", qkv_w), const(f"l{i}_qkv_b", qkv_b), mask],
            f"l{i}_context",
            domain="com.microsoft",
            num_heads=num_heads,
        )
        projected = node(
            "MatMul", [context, const(f"l{i}_o_w", w["attention.output.dense"][0])], f"l{i}_o"
        )
        attended = residual_norm(
            projected,
            const(f"l{i}_o_b", w["attention.output.dense"][1]),
            state,
            const(f"l{i}_ln1_w", weights[ln + "attention.output.LayerNorm.weight"]),
            const(f"l{i}_ln1_b", weights[ln + "attention.output.LayerNorm.bias"]),
            f"l{i}_attended",
        )
        up = node("MatMul", [attended, const(f"l{i}_up_w", w["intermediate.dense"][0])], f"l{i}_up")
        gelu = node(
            "BiasGelu",
            [up, const(f"l{i}_up_b", w["intermediate.dense"][1])],
            f"l{i}_gelu",
            domain="com.microsoft",
        )
        down = node("MatMul", [gelu, const(f"l{i}_down_w", w["output.dense"][0])], f"l{i}_down")
        state = residual_norm(
            down,
            const(f"l{i}_down_b", w["output.dense"][1]),
            attended,
            const(f"l{i}_ln2_w", weights[ln + "output.LayerNorm.weight"]),
            const(f"l{i}_ln2_b", weights[ln + "output.LayerNorm.bias"]),
            "last_hidden_state" if i == layers[-1] else f"layer_in_{i + 1}",
        )

    ids = ["batch", "sequence"]
    graph = helper.make_graph(
        nodes,
        "bert-fused",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ids),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ids),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*ids, hidden])],
        [
            numpy_helper.from_array(v.astype(np.float32) if v.dtype == np.float64 else v, name)
            for name, v in inits.items()
        ],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, producer_name="paperwire")


_QKV = ("attention.self.query", "attention.self.key", "attention.self.value")
_ROLES = (*_QKV, "attention.output.dense", "intermediate.dense", "output.dense")


def _linear_weights(model, weights: dict[str, np.ndarray]) -> dict[str, tuple]:
    """'{layer}.{role}' -> (W, b) for every `MatMul(x, W) + b` whose bias is named."""
    producers = {out: n for n in model.graph.node for out in n.output}
    found = {}
    for add in model.graph.node:
        if add.op_type != "Add" or len(add.input) != 2:
            continue
        bias_name = next((x for x in add.input if x in weights and ".layer." in x), None)
        matmul = producers.get(next((x for x in add.input if x != bias_name), ""))
        if bias_name is None or matmul is None or matmul.op_type != "MatMul":
            continue
        if matmul.input[1] not in weights or not bias_name.endswith(".bias"):
            continue
        after = bias_name.split(".layer.", 1)[1][: -len(".bias")]
        layer, role = after.split(".", 1)
        if role in _ROLES:
            found[f"{layer}.{role}"] = (weights[matmul.input[1]], weights[bias_name])
    layers = {k.split(".")[0] for k in found}
    missing = [f"{layer}.{r}" for layer in layers for r in _ROLES if f"{layer}.{r}" not in found]
    if not found or missing:
        raise ValueError(f"not a BERT encoder this rebuild understands (missing {missing[:3]})")
    return found


def _layer_norm_epsilon(model) -> float:
    for n in model.graph.node:
        if n.op_type == "LayerNormalization":
            for a in n.attribute:
                if a.name == "epsilon":
                    return float(a.f)
    return 1e-12
