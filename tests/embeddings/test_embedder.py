import numpy as np
import pytest

from paperwire.config import load_settings
from paperwire.search.embedder import (
    Embedder,
    EmbedderUnavailable,
    build_embedder,
    paper_text,
)

TEXTS = [
    "Attention is all you need: a transformer for machine translation.",
    "A sequence-to-sequence transformer model that translates English to German.",
    "Protein structure prediction with deep learning.",
    "A recipe for a quick tomato pasta sauce with basil.",
]


def test_shape_dtype_and_normalisation(embedder):
    assert isinstance(embedder, Embedder)
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dim) == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_deterministic_and_batch_independent(embedder):
    first = embedder.embed(TEXTS)
    np.testing.assert_array_equal(first, embedder.embed(TEXTS))
    alone = embedder.embed([TEXTS[2]])[0]
    assert float(alone @ first[2]) > 0.97  # int8 activations are quantised per batch


def test_similar_texts_score_higher_than_unrelated(embedder):
    v = embedder.embed(TEXTS)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert v[0] @ v[1] > v[0] @ v[3] + 0.3


def test_empty_and_huge_texts_are_fine(embedder):
    vectors = embedder.embed(["", "x " * 20_000, "🙂 \u202eright-to-left\u202c"])
    assert vectors.shape == (3, 384)
    assert np.isfinite(vectors).all()


def test_paper_text_joins_title_and_abstract():
    assert paper_text("A  title", "Some\nabstract.") == "A title. Some abstract."
    assert paper_text("Why?", "Because.") == "Why? Because."
    assert paper_text("Only title", "") == "Only title"


def test_build_embedder_from_settings(tmp_path):
    assert build_embedder(load_settings(data_dir=tmp_path, embedder="none")) is None
    default = build_embedder(load_settings(data_dir=tmp_path, embedder="default"))
    assert default is not None and default.model_id.startswith("minilm-l6-v2")


def test_sentence_transformers_model_needs_the_package(tmp_path):
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(EmbedderUnavailable, match="sentence-transformers"):
            build_embedder(load_settings(data_dir=tmp_path, embedder="some/model"))
    else:
        pytest.skip("sentence-transformers is installed here")


def test_cuda_without_a_gpu_runtime_is_a_clear_error(tmp_path):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("onnxruntime-gpu is installed")
    settings = load_settings(data_dir=tmp_path, embedder="default", embed_device="cuda")
    with pytest.raises(EmbedderUnavailable, match="onnxruntime-gpu"):
        build_embedder(settings)
