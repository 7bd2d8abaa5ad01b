"""The keyword index's snapshot on disk: memory-mapped arrays plus a small meta file.

Arrays go into a fresh folder and the meta file is switched atomically, so readers
never see half a snapshot; the previous folder is removed (open memory maps of it
stay valid). The meta file ties the snapshot to its database and analyser, and keeps
when the read behind it began and the (id, modified_at) pairs near that time, so a
restart knows exactly what the snapshot has seen.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path

from paperwire.search.bm25_segment import Segment, load_segment, save_segment
from paperwire.search.text_analysis import ANALYZER

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 4
META_FILE = "keyword-index.meta.json"


def load_snapshot(
    folder: Path, database: str
) -> tuple[Segment, datetime, dict[str, datetime]] | None:
    """The segment, its read time and recent pairs; None if missing, stale or damaged."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
        if (
            meta.get("version") != SNAPSHOT_VERSION
            or meta.get("analyzer") != ANALYZER
            or meta.get("database") != database
        ):
            return None
        segment = load_segment(folder / meta["folder"], count=meta["count"],
                               total_length=int(meta["total_length"]))
        read_at = datetime.fromisoformat(meta["read_at"])
        recent = {pid: datetime.fromisoformat(m) for pid, m in meta["recent"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if segment is None:
        return None
    return segment, read_at, recent


def write_snapshot(
    folder: Path,
    database: str,
    segment: Segment,
    read_at: datetime | None,
    recent: dict[str, datetime],
) -> None:
    """Arrays into a fresh sub-folder, then switch the meta file atomically."""
    token = f"{int(time.time() * 1000)}-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        meta_path = folder / META_FILE
        old = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        arrays = folder / f"keyword.{token}"
        arrays.mkdir()
        save_segment(segment, arrays)
        meta = {
            "version": SNAPSHOT_VERSION,
            "analyzer": ANALYZER,
            "database": database,
            "folder": arrays.name,
            "count": len(segment.ids),
            "total_length": segment.total_length,
            "read_at": read_at.isoformat() if read_at else None,
            "recent": {pid: m.isoformat() for pid, m in recent.items()},
        }
        tmp = meta_path.with_name(f"{meta_path.name}.{token}.tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, meta_path)
        stale = old.get("folder")
        if isinstance(stale, str) and stale != arrays.name and "/" not in stale:
            for path in (folder / stale).glob("*.*"):
                path.unlink(missing_ok=True)  # open memory maps stay valid
            (folder / stale).rmdir()
    except (OSError, ValueError) as exc:  # a read-only data dir only costs start-up time
        log.warning("could not write the keyword index snapshot: %s", exc)
