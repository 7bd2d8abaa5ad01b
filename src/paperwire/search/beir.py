"""Reading a BEIR folder: corpus.jsonl(.gz), queries.jsonl, qrels/test.tsv."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson


class BeirFormatError(ValueError):
    """The folder is not a readable BEIR data set; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class BeirDoc:
    id: str
    title: str
    text: str
    date: str | None = None  # publication day (YYYY-MM-DD), where the set has one


@dataclass(frozen=True, slots=True)
class Reader:
    """A recommendation-set reader: their library before `cutoff` is the query."""

    id: str
    cutoff: date
    library: tuple[str, ...]


def corpus_path(folder: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (folder / name).is_file():
            return folder / name
    raise BeirFormatError(f"{folder} has no corpus.jsonl or corpus.jsonl.gz")


def read_corpus(folder: Path) -> Iterator[BeirDoc]:
    path = corpus_path(folder)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                title, text = str(row.get("title") or ""), str(row.get("text") or "")
                day = row.get("date")
                yield BeirDoc(str(row["_id"]), title, text, str(day) if day else None)
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise BeirFormatError(f"{path.name} line {number}: {exc}") from None


def read_queries(folder: Path) -> dict[str, str]:
    path = folder / "queries.jsonl"
    if not path.is_file():
        raise BeirFormatError(f"{folder} has no queries.jsonl")
    queries: dict[str, str] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                queries[str(row["_id"])] = str(row.get("text") or "")
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise BeirFormatError(f"queries.jsonl line {number}: {exc}") from None
    return queries


def read_qrels(folder: Path, split: str = "test") -> dict[str, dict[str, int]]:
    path = folder / "qrels" / f"{split}.tsv"
    if not path.is_file():
        raise BeirFormatError(f"{folder} has no qrels/{split}.tsv")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), 1):
            if not row or (number == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue  # blank line or header
            try:
                query_id, doc_id, grade = row[0], row[1], int(row[2])
            except (IndexError, ValueError):
                raise BeirFormatError(
                    f"qrels/{split}.tsv line {number}: expected query-id, corpus-id, score"
                ) from None
            qrels.setdefault(query_id, {})[doc_id] = grade
    return qrels


def parse_day(value: str | None) -> date | None:
    """The day of a `date` field (YYYY-MM-DD, or an ISO timestamp starting with one)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def read_users(folder: Path) -> list[Reader]:
    """users.jsonl: one `{_id, cutoff, library: [ids]}` per line."""
    path = folder / "users.jsonl"
    if not path.is_file():
        raise BeirFormatError(f"{folder} has no users.jsonl")
    readers: list[Reader] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                cutoff = parse_day(str(row["cutoff"]))
                library = row.get("library") or []
                if cutoff is None or not isinstance(library, list):
                    raise TypeError("cutoff must be YYYY-MM-DD and library a list of ids")
                readers.append(Reader(str(row["_id"]), cutoff, tuple(str(x) for x in library)))
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise BeirFormatError(f"users.jsonl line {number}: {exc}") from None
    return readers
