"""Hold a derived index's snapshot writer inside its write, to test what happens meanwhile."""

from __future__ import annotations

import threading


def hold_snapshot_writes(snapshots) -> tuple[threading.Event, threading.Event]:
    """Patch `snapshots.save` (a SnapshotFolder) so that each write, once it holds the file
    lock, sets `writing` and waits for `release`; returns (writing, release)."""
    writing, release = threading.Event(), threading.Event()
    save = snapshots.save

    def held_save(meta, write):
        def held_write(path):
            writing.set()
            assert release.wait(30)
            write(path)
        return save(meta, held_write)

    snapshots.save = held_save
    return writing, release
