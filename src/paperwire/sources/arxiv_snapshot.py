"""arXiv bulk-metadata snapshot (JSON lines, plain or gzip) -> domain records.

The real snapshot is 2.7M lines and 4.5 GB, so this reads strictly one line
at a time. Malformed lines become `Rejected("file:line", reason)`; the few
shapes that can be recovered without guessing are recovered (a byte-order
mark, a trailing comma or array bracket, NaN values, two objects glued on
one line).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from paperwire.clock import aware_utc
from paperwire.domain.arxiv_metadata import BadArxivMetadata, arxiv_record
from paperwire.domain.records import PaperRecord, Rejected, SourceItem
from paperwire.domain.text import split_author_list

GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE_BYTES = 16 * 1024 * 1024
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
)}
# Fields that mark an object as an arXiv metadata record.
ARXIV_MARKERS = ("versions", "authors_parsed", "abstract", "categories")


class BadRecord(ValueError):
    """A line that cannot be turned into a paper; the message is the reason."""


def open_binary(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """Open a plain or gzip file (by content); return (reader, raw file for positions)."""
    raw = open(path, "rb")  # noqa: SIM115 - the caller closes it
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    raw.seek(0)
    return raw, raw


def read_snapshot(
    path: Path,
    *,
    label: str | None = None,
    on_position: Callable[[int], None] | None = None,
) -> Iterator[SourceItem | Rejected]:
    """Stream one SourceItem or Rejected per line of a snapshot file.

    `on_position(bytes_read)` reports how far into the file (compressed bytes
    for gzip) the reader is, every few thousand lines and at the end.
    """
    label = label or str(path)
    reader, raw = open_binary(path)
    try:
        for number, line in enumerate(iter_lines(reader), start=1):
            if on_position is not None and number % 2000 == 0:
                on_position(raw.tell())
            if line is None:
                reason = f"the line is longer than {MAX_LINE_BYTES} bytes"
                yield Rejected(f"{label}:{number}", reason)
                continue
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            yield from parse_snapshot_line(line, where=f"{label}:{number}")
        if on_position is not None:
            on_position(raw.tell())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield Rejected(label, f"the file could not be read to its end: {exc}")
    finally:
        reader.close()
        raw.close()


def iter_lines(reader: BinaryIO) -> Iterator[bytes | None]:
    """Yield lines (without size limit surprises); None for a line that is too long."""
    readline = reader.readline
    while line := readline(MAX_LINE_BYTES):
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield None
            continue
        yield line


def parse_snapshot_line(line: bytes, *, where: str) -> Iterator[SourceItem | Rejected]:
    """Decode one line (recovering safe cases) and map each object in it."""
    try:
        objects = decode_line(line)
    except BadRecord as exc:
        yield Rejected(where, str(exc))
        return
    for obj in objects:
        try:
            yield SourceItem(parse_arxiv_record(obj))
        except BadRecord as exc:
            yield Rejected(where, str(exc))


def decode_line(line: bytes) -> list[Any]:
    """Return the JSON values on one line, or raise BadRecord with the reason."""
    try:
        return [orjson.loads(line)]
    except orjson.JSONDecodeError as exc:
        first_error = str(exc)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRecord("the line is not valid UTF-8") from None
    # A line copied out of a JSON array: "[{...},", "{...},", "{...}]".
    trimmed = text.strip().removeprefix("[").removesuffix("]").strip().removesuffix(",").strip()
    try:
        return [json.loads(trimmed)]  # also accepts NaN/Infinity, which orjson refuses
    except ValueError:
        pass
    values = _glued_objects(trimmed)
    if values:
        return values
    raise BadRecord(f"not valid JSON ({first_error.split(':')[0]})")


def _glued_objects(text: str) -> list[Any]:
    """Split 'obj}{obj' lines (a lost newline); empty if that is not what this is."""
    decoder, values, index = json.JSONDecoder(), [], 0
    while index < len(text):
        try:
            value, index = decoder.raw_decode(text, index)
        except ValueError:
            return []
        values.append(value)
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
    return values if len(values) > 1 else []


def looks_like_arxiv_record(value: object) -> bool:
    return isinstance(value, dict) and "id" in value and any(k in value for k in ARXIV_MARKERS)


def parse_arxiv_record(obj: object) -> PaperRecord:
    """Map one snapshot object to a PaperRecord."""
    if not isinstance(obj, dict):
        raise BadRecord(f"expected a JSON object, got {type(obj).__name__}")
    version, published_at, updated_at = _versions(obj.get("versions"))
    try:
        return arxiv_record(
            raw_id=obj.get("id"),
            title=_text(obj.get("title")),
            abstract=_text(obj.get("abstract")),
            authors=_authors(obj.get("authors_parsed"), obj.get("authors")),
            categories=_text(obj.get("categories")).split(),
            version=version,
            published_at=published_at,
            updated_at=updated_at,
            comments=_text(obj.get("comments")),
            journal_ref=_text(obj.get("journal-ref")),
            doi=_text(obj.get("doi")),
        )
    except BadArxivMetadata as exc:
        raise BadRecord(str(exc)) from None


def _versions(value: object) -> tuple[int | None, datetime | None, datetime | None]:
    """Return (latest version, v1 time, latest version time)."""
    if not isinstance(value, list):
        return None, None, None
    dated: list[tuple[int, datetime | None]] = []
    for entry in value:
        if not isinstance(entry, dict):
            continue
        label = _text(entry.get("version")).lower().removeprefix("v")
        if label.isdigit():
            dated.append((int(label), parse_arxiv_time(entry.get("created"))))
    if not dated:
        return None, None, None
    dated.sort(key=lambda pair: pair[0])
    return dated[-1][0], dated[0][1], dated[-1][1]


def parse_arxiv_time(value: object) -> datetime | None:
    """Parse 'Tue, 18 Mar 2025 17:00:00 GMT' quickly, falling back to the email parser."""
    if not isinstance(value, str):
        return None
    parts = value.split()
    try:
        if len(parts) == 6 and parts[5] in ("GMT", "UTC"):
            hour, minute, second = parts[4].split(":")
            return datetime(
                int(parts[3]), _MONTHS[parts[2]], int(parts[1]),
                int(hour), int(minute), int(second), tzinfo=UTC,
            )
        moment = parsedate_to_datetime(value)
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    return aware_utc(moment)


def _authors(parsed: object, plain: object) -> tuple[str, ...]:
    """Authors as 'First Last Suffix' from authors_parsed, else split the plain string."""
    if isinstance(parsed, list) and parsed:
        names = []
        for entry in parsed:
            if type(entry) is not list:
                continue
            if len(entry) == 3 and all(type(part) is str for part in entry):
                last, first, suffix = entry
            else:
                padded = [p if isinstance(p, str) else "" for p in entry] + ["", "", ""]
                last, first, suffix = padded[:3]
            name = f"{first} {last} {suffix}" if suffix else f"{first} {last}"
            if "  " in name or not first or not last or name != name.strip():
                name = " ".join(name.split())
            if name:
                names.append(name)
        if names:
            return tuple(names)
    return tuple(split_author_list(plain if isinstance(plain, str) else None))


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
