"""The snapshot folder shared by several processes: one valid snapshot, no orphans."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from paperwire.search.derived import SnapshotFolder, SnapshotWriter

WRITER = """
import sys
from pathlib import Path
from paperwire.search.derived import SnapshotFolder
folder, tag = SnapshotFolder(Path(sys.argv[1]), "idx"), sys.argv[2]
for n in range(25):
    def write(path, n=n):
        (path / "data.txt").write_text(f"{tag}-{n}")
    assert folder.save({"tag": tag, "n": n}, write)
"""


def _current(folder: SnapshotFolder):
    return folder.load(lambda meta, path: (meta["tag"], meta["n"],
                                           (path / "data.txt").read_text()))


def test_two_processes_writing_snapshots_leave_one_valid_snapshot_and_no_orphans(tmp_path):
    target = tmp_path / "snapshots"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(target), tag])
               for tag in ("a", "b")]
    assert [w.wait(120) for w in writers] == [0, 0]
    folder = SnapshotFolder(target, "idx")
    tag, n, data = _current(folder)
    assert data == f"{tag}-{n}"  # the meta file names the folder written with it
    assert n == 24  # the last save of whichever process wrote last
    assert len(folder.snapshot_folders()) == 1
    assert sorted(p.name for p in target.iterdir() if not p.is_dir()) == [
        "idx.lock", "idx.meta.json"]


def test_a_crashed_writers_folder_is_removed_by_the_next_save(tmp_path):
    folder = SnapshotFolder(tmp_path, "idx")
    orphan = tmp_path / "idx.snap-1700000000000-999-abcdef"
    orphan.mkdir()
    (orphan / "data.txt").write_text("half written")
    (tmp_path / "idx.meta.json.1700000000000-999-abcdef.tmp").write_text("{")
    other = tmp_path / "other.snap-1-2-3"  # another index's snapshot is left alone
    other.mkdir()
    assert folder.save({"tag": "x", "n": 0}, lambda p: (p / "data.txt").write_text("x-0"))
    assert not orphan.exists() and other.exists()
    assert _current(folder) == ("x", 0, "x-0")
    assert not list(tmp_path.glob("*.tmp"))


def test_a_failed_write_keeps_the_previous_snapshot(tmp_path):
    folder = SnapshotFolder(tmp_path, "idx")
    folder.save({"tag": "x", "n": 1}, lambda p: (p / "data.txt").write_text("x-1"))

    def broken(path: Path) -> None:
        (path / "data.txt").write_text("partial")
        raise OSError("disk full")

    assert not folder.save({"tag": "x", "n": 2}, broken)
    assert _current(folder) == ("x", 1, "x-1") and len(folder.snapshot_folders()) == 1
    (tmp_path / "idx.meta.json").write_text(json.dumps({"folder": "../elsewhere"}))
    assert _current(folder) is None  # a meta file naming anything else is refused


def test_the_writer_coalesces_to_the_newest_state_and_never_blocks_submit():
    saved, started, release = [], threading.Event(), threading.Event()

    def save(state):
        started.set()
        assert release.wait(10)
        saved.append(state)

    writer = SnapshotWriter(save, "test-writer")
    writer.submit(1)
    assert started.wait(10)  # saving 1; 2 and 3 arrive meanwhile
    writer.submit(2)
    writer.submit(3)
    assert not writer.wait(0)
    release.set()
    assert writer.wait(10)
    assert saved == [1, 3]
