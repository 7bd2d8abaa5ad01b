"""Fixtures for the embedding tests: the real default embedder and a few real papers."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy import Engine

from paperwire.domain.records import PaperRecord
from paperwire.search.embedder import default_embedder
from paperwire.store.papers import upsert_papers


@pytest.fixture(scope="session")
def embedder():
    return default_embedder(threads=1)


@pytest.fixture(scope="session")
def shared_papers(shared_dir) -> list[PaperRecord]:
    """40 real papers; abstracts cut to their first sentence so the tests embed quickly."""
    records = []
    with gzip.open(shared_dir / "relevance/keywords-dev/corpus.jsonl.gz", "rt") as fh:
        for line in fh:
            doc = json.loads(line)
            first_sentence = doc["text"].split(". ")[0]
            records.append(PaperRecord(id=doc["_id"], title=doc["title"], abstract=first_sentence))
            if len(records) == 40:
                break
    return records


def add_papers(engine: Engine, records: Sequence[PaperRecord]) -> None:
    with engine.begin() as conn:
        upsert_papers(conn, records)


class CountingEmbedder:
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self, inner, fail_on_call: int | None = None) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.texts = 0
        self.calls = 0
        self.fail_on_call = fail_on_call

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.fail_on_call is not None and self.calls == self.fail_on_call:
            raise KeyboardInterrupt("stopped on purpose")
        self.texts += len(texts)
        return self.inner.embed(texts)
