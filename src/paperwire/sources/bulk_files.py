"""`paperwire import PATH...`: find out what each path holds and stream its records.

Each path is one of:
- a directory of Hugging Face `/api/daily_papers` responses (`YYYY-MM-DD.json`);
- a single such `.json` file (a list of items, or a `{status, date, count, data}` wrapper);
- an arXiv bulk-metadata snapshot in JSON lines, plain or gzip, whatever its name.

Formats are told apart by content, not by file extension. Every path is
checked before anything is imported, so a wrong path fails with one line
and writes nothing.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson

from paperwire.domain.records import Rejected, SourceItem
from paperwire.sources.arxiv_snapshot import (
    looks_like_arxiv_record,
    open_binary,
    read_snapshot,
)
from paperwire.sources.hf_daily import parse_daily_response, unwrap_response

# A daily-papers response is small; anything bigger that is not JSON lines is refused.
MAX_HF_FILE_BYTES = 512 * 1024 * 1024
_PEEK_BYTES = 1024 * 1024
_DAY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json(?:\.gz)?$")
_CANDIDATE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz")


class ImportInputError(ValueError):
    """A path that cannot be imported; the message is one line for the user."""


class Kind(enum.Enum):
    HF_DAILY = "hf-daily"
    ARXIV_SNAPSHOT = "arxiv-snapshot"


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path
    kind: Kind
    size: int
    label: str  # how the file is named in rejected records

    @property
    def fetched_for(self) -> date | None:
        """The day a daily-papers file was fetched for, from its YYYY-MM-DD name."""
        match = _DAY_NAME.match(self.path.name)
        if not match:
            return None
        try:
            return date.fromisoformat(match.group(1))
        except ValueError:
            return None


def plan_import(paths: Sequence[Path | str]) -> list[InputFile]:
    """Check every path and list the files to import, in order."""
    if not paths:
        raise ImportInputError("give at least one file or directory to import")
    files: list[InputFile] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise ImportInputError(f"{given}: no such file or directory")
        if path.is_dir():
            files.extend(_plan_directory(path))
        elif path.is_file():
            files.append(InputFile(path, detect_kind(path), path.stat().st_size, str(path)))
        else:
            raise ImportInputError(f"{given}: not a regular file or directory")
    return files


def _plan_directory(directory: Path) -> list[InputFile]:
    members = sorted(
        p for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.endswith(_CANDIDATE_SUFFIXES)
    )
    if not members:
        raise ImportInputError(f"{directory}: no .json, .jsonl or .gz files to import")
    planned = []
    for member in members:
        # A date-named file in a directory is a daily-papers response even when
        # its body is broken: that is reported per file instead of stopping the run.
        kind = Kind.HF_DAILY if _DAY_NAME.match(member.name) else detect_kind(member)
        planned.append(InputFile(member, kind, member.stat().st_size, str(member)))
    return planned


def detect_kind(path: Path) -> Kind:
    """Tell a daily-papers response from an arXiv snapshot by looking inside the file."""
    try:
        reader, _raw = open_binary(path)
        with reader:
            head = reader.read(_PEEK_BYTES)
    except OSError as exc:
        raise ImportInputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise ImportInputError(f"{path}: the file is empty")
    if _has_arxiv_line(text, whole_file=len(head) < _PEEK_BYTES):
        return Kind.ARXIV_SNAPSHOT
    if text[:1] in (b"[", b"{") and _is_daily_response(path):
        return Kind.HF_DAILY
    raise ImportInputError(
        f"{path}: unknown format (expected Hugging Face daily-papers JSON or arXiv JSON lines)"
    )


def _has_arxiv_line(head: bytes, *, whole_file: bool, lines_to_try: int = 20) -> bool:
    """True when one of the first complete lines is an arXiv metadata object."""
    lines = head.split(b"\n")
    if not whole_file:
        lines = lines[:-1]  # the last piece may be cut off
    for line in [line for line in lines if line.strip()][:lines_to_try]:
        try:
            value = orjson.loads(line.strip().removesuffix(b","))
        except orjson.JSONDecodeError:
            continue
        if looks_like_arxiv_record(value):
            return True
    return False


def _is_daily_response(path: Path) -> bool:
    if path.stat().st_size > MAX_HF_FILE_BYTES:
        return False
    try:
        payload = _load_json(path)
        items, _day = unwrap_response(payload)
    except (ValueError, OSError, EOFError):
        return False
    return all(isinstance(item, dict | str) for item in items)


def _load_json(path: Path) -> object:
    reader, _raw = open_binary(path)
    with reader:
        return orjson.loads(reader.read())


def iter_records(
    files: Sequence[InputFile], *, on_bytes: Callable[[int], None] | None = None
) -> Iterator[SourceItem | Rejected]:
    """Stream every record of the planned files; `on_bytes(n)` reports bytes read so far."""
    done = 0
    for file in files:
        if file.kind is Kind.ARXIV_SNAPSHOT:
            base = done
            report = (lambda pos, base=base: on_bytes(base + pos)) if on_bytes else None
            yield from read_snapshot(file.path, label=file.label, on_position=report)
        else:
            yield from _read_daily_file(file)
        done += file.size
        if on_bytes is not None:
            on_bytes(done)


def _read_daily_file(file: InputFile) -> Iterator[SourceItem | Rejected]:
    try:
        payload = _load_json(file.path)
    except orjson.JSONDecodeError as exc:
        yield Rejected(file.label, f"not valid JSON ({str(exc).split(':')[0]})")
        return
    except (OSError, EOFError) as exc:
        yield Rejected(file.label, f"cannot be read ({exc})")
        return
    yield from parse_daily_response(payload, fetched_for=file.fetched_for, origin=file.label)
