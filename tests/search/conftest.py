"""Fixtures for search tests: a database with a handful of known papers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from paperwire.domain.records import OrganizationRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest


def paper(pid: str, title: str, abstract: str, **kw) -> PaperRecord:
    return PaperRecord(id=pid, title=title, abstract=abstract, sources=frozenset({"arxiv"}), **kw)


PAPERS = [
    paper(
        "2501.00001", "Diffusion Transformers for Image Synthesis",
        "We scale diffusion models with transformer backbones and study image quality.",
        authors=("Alice Zhang", "Bob Li"), categories=("cs.CV", "cs.LG"), primary_category="cs.CV",
        published_at=datetime(2025, 1, 10, tzinfo=UTC), github_repo="https://github.com/a/dit",
        organization=OrganizationRecord("nvidia", "NVIDIA"), source_upvotes=50,
    ),
    paper(
        "2502.00002", "Graph Neural Networks for Molecules",
        "Message passing on molecular graphs predicts properties of molecules.",
        authors=("Carol Smith",), categories=("cs.LG",), primary_category="cs.LG",
        published_at=datetime(2025, 2, 10, tzinfo=UTC), source_upvotes=5,
    ),
    paper(
        "2503.00003", "Speech Recognition with Conformers",
        "Convolution-augmented transformers improve speech recognition accuracy.",
        authors=("Dan Brown", "Alice Zhang"), categories=("cs.CL", "eess.AS"),
        primary_category="cs.CL",
        published_at=datetime(2025, 3, 10, tzinfo=UTC), source_upvotes=20,
        organization=OrganizationRecord("google", "Google"),
    ),
    paper(
        "2504.00004", "Escaping <script>alert(1)</script> & other HTML in abstracts",
        "Diffusion of <b>bold</b> claims & \"quotes\" about transformers in <script>x</script>.",
        authors=("Eve Adams",), categories=("cs.CR",), primary_category="cs.CR",
        published_at=datetime(2025, 4, 10, tzinfo=UTC),
    ),
    paper(
        "2505.00005", "Large Language Models as Planners",
        "Language models plan multi-step tasks; we evaluate planning with transformers.",
        authors=("Frank Green",), categories=("cs.CL", "cs.AI"), primary_category="cs.CL",
        published_at=datetime(2025, 5, 10, tzinfo=UTC), github_repo="https://github.com/f/plan",
        source_upvotes=100,
    ),
]


@pytest.fixture
def seeded(container):
    ingest(container.engine, [SourceItem(p) for p in PAPERS], source="test", parameters={})
    return container


class HashingEmbedder:
    """A small deterministic bag-of-words embedder (feature hashing), for tests only.

    It implements the Embedder interface exactly, so the real embedding store and
    vector index run underneath it.
    """

    model_id = "test-hashing-64"
    dim = 64

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                digest = hashlib.md5(word[:5].encode()).digest()
                out[row, digest[0] % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
