"""The keyword index's snapshot on disk: memory-mapped arrays plus a small meta file.

Written through `search.derived.SnapshotFolder` (an exclusive file lock, a fresh
sub-folder, an atomic switch of the meta file, unreferenced folders removed), so
several processes can share the folder and readers never see half a snapshot. The
meta file ties the snapshot to its database and analyser, and keeps when the read
behind it began and the (id, modified_at) pairs near that time, so a restart knows
exactly what the snapshot has seen.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from paperwire.search.bm25_segment import Segment, load_segment, save_segment
from paperwire.search.derived import SnapshotFolder
from paperwire.search.text_analysis import ANALYZER

SNAPSHOT_VERSION = 5
SNAPSHOT_NAME = "keyword-index"  # keyword-index.meta.json + keyword-index.snap-*/
LEGACY = r"keyword\.\d+-\d+"  # the folders of snapshot version 4


def snapshot_folder(folder: Path) -> SnapshotFolder:
    return SnapshotFolder(folder, SNAPSHOT_NAME, legacy=LEGACY)


def load_snapshot(
    folder: SnapshotFolder, database: str
) -> tuple[Segment, datetime, dict[str, datetime]] | None:
    """The segment, its read time and recent pairs; None if missing, stale or damaged."""

    def read(meta: dict, path: Path):
        if (
            meta.get("version") != SNAPSHOT_VERSION
            or meta.get("analyzer") != ANALYZER
            or meta.get("database") != database
        ):
            return None
        segment = load_segment(path, count=meta["count"], total_length=int(meta["total_length"]))
        if segment is None:
            return None
        read_at = datetime.fromisoformat(meta["read_at"])
        recent = {pid: datetime.fromisoformat(m) for pid, m in meta["recent"].items()}
        return segment, read_at, recent

    return folder.load(read)


def write_snapshot(
    folder: SnapshotFolder,
    database: str,
    segment: Segment,
    read_at: datetime | None,
    recent: dict[str, datetime],
) -> bool:
    meta = {
        "version": SNAPSHOT_VERSION,
        "analyzer": ANALYZER,
        "database": database,
        "count": len(segment.ids),
        "total_length": segment.total_length,
        "read_at": read_at.isoformat() if read_at else None,
        "recent": {pid: m.isoformat() for pid, m in recent.items()},
    }
    return folder.save(meta, lambda path: save_segment(segment, path))
