"""The default embedder: the rebuilt fused graph, optional windows, closeness to the reference."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from paperwire.search.bert_graph import rebuild_bert
from paperwire.search.embedder import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_WINDOW,
    default_embedder,
    default_model_path,
    fold_to_fp32,
    load_bundled_tokenizer,
    split_into_windows,
)

CLS, SEP = 101, 102
LONG_ABSTRACT = (
    "We study retrieval of scientific papers with dense and sparse representations. "
    "Our method encodes titles and abstracts with a small transformer, fuses the scores "
    "with BM25 and adapts the fusion weight to the length of the query. "
) * 6


@given(
    st.lists(st.lists(st.integers(1000, 30000), max_size=400), min_size=1, max_size=6),
    st.integers(3, 140),
)
def test_windows_keep_every_token_in_order_and_fit(bodies, window):
    sequences = [[CLS, *body, SEP] for body in bodies]
    owners, pieces = split_into_windows(sequences, window)
    assert len(owners) == len(pieces)
    for i, sequence in enumerate(sequences):
        mine = [p for p, owner in zip(pieces, owners, strict=True) if owner == i]
        if len(sequence) <= window:
            assert mine == [sequence]
            continue
        assert all(len(p) <= window and p[0] == CLS and p[-1] == SEP for p in mine)
        assert [t for p in mine for t in p[1:-1]] == sequence[1:-1]
        # the fewest pieces that fit
        assert len(mine) == -(-(len(sequence) - 2) // (window - 2))


def test_two_windows_cover_a_text_twice_as_long_as_one():
    sequences = [[CLS, *range(1000, 1000 + 2 * (128 - 2)), SEP]]
    owners, pieces = split_into_windows(sequences, 128)
    assert [len(p) for p in pieces] == [128, 128]


def test_default_reads_one_256_token_window_like_the_reference():
    assert DEFAULT_MAX_TOKENS == DEFAULT_WINDOW == 256
    assert default_embedder(threads=1).model_id == "minilm-l6-v2-t256"


def test_windowing_changes_only_long_texts_and_the_model_id():
    windowed = default_embedder(threads=1, max_tokens=254, window=128)
    whole = default_embedder(threads=1)
    assert windowed.model_id != whole.model_id  # stored vectors are never mixed
    short = "Dense retrieval of scientific papers."
    long = "Dense retrieval of scientific papers. " + LONG_ABSTRACT
    # alone, because int8 activations are quantised per batch
    np.testing.assert_array_equal(windowed.embed([short]), whole.embed([short]))
    a, b = windowed.embed([long]), whole.embed([long])
    assert 0.85 < float(a[0] @ b[0]) < 0.9999  # same content, seen in two windows


def test_default_computes_what_the_fp32_reference_computes():
    """Vectors of sentence-transformers all-MiniLM-L6-v2 (fp32, 256 tokens), computed once
    with torch (tests/embeddings/data/minilm_reference.json): two short queries, three
    abstracts longer than 256 tokens."""
    data = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())
    reference = np.array(data["vectors"], dtype=np.float32)
    tokenizer = load_bundled_tokenizer()
    tokenizer.no_truncation()
    assert sum(len(tokenizer.encode(t).ids) > 256 for t in data["texts"]) == 3

    def cosines(embedder):
        got = np.stack([embedder.embed([t])[0] for t in data["texts"]])
        return np.sum(got * reference, axis=1)

    assert cosines(default_embedder(threads=1)).min() > 0.985  # int8 products, one window
    # the earlier default's two 128-token windows drift on long texts
    windowed = cosines(default_embedder(threads=1, max_tokens=254, window=128))
    assert windowed[2:].max() < 0.985


def test_rebuilt_graph_computes_what_the_packaged_model_does(tmp_path):
    folded = onnx.load(str(fold_to_fp32(default_model_path(), tmp_path / "folded.onnx")))
    rebuilt = rebuild_bert(folded, num_heads=12)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    original = ort.InferenceSession(str(default_model_path()), options)
    fused = ort.InferenceSession(rebuilt.SerializeToString(), options)
    assert {n.op_type for n in rebuilt.graph.node} >= {"Attention", "BiasGelu"}

    tokenizer = load_bundled_tokenizer()
    tokenizer.enable_truncation(128)
    tokenizer.enable_padding()  # right padding: the mask must hide it
    encodings = tokenizer.encode_batch(["Graph neural networks.", LONG_ABSTRACT])
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    want = original.run(
        None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    )[0]
    got = fused.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    valid = mask[:, :, None].astype(bool)
    assert np.abs(np.where(valid, want - got, 0)).max() < 1e-3


def test_a_graph_that_is_not_bert_is_refused():
    weight = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [
            weight,
            numpy_helper.from_array(
                np.ones((8, 4), np.float32), "embeddings.word_embeddings.weight"
            ),
        ],
    )
    with pytest.raises(ValueError, match="not a BERT encoder"):
        rebuild_bert(helper.make_model(graph), num_heads=1)
