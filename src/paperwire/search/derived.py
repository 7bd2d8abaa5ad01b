"""One mechanism for the in-memory indexes derived from the database (BM25, vectors).

Each index keeps an immutable state that searches read without a lock, and
- catches up from the database under its catch-up lock (one catch-up at a time; a
  search that finds one running goes on with the current state), building the next
  state outside any lock searches take;
- swaps the new state in as one assignment under a short lock (`DerivedState.swap`);
- hands states worth saving to a `SnapshotWriter`, which writes them from a thread of
  its own after the swap, so no lock is held during the write;
- writes snapshots through `SnapshotFolder`: under an exclusive file lock (several
  processes share the data folder), into a fresh sub-folder, then switches the meta
  file atomically and removes every sub-folder the meta file does not name (older
  snapshots and those of writers that died). Readers load under a shared file lock,
  so a folder is never removed while one is being opened; memory maps of a removed
  folder stay valid.
Writes of this process reach the indexes through change events (store.events);
writes of other processes through the database's watermarks, at the next catch-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

S = TypeVar("S")
T = TypeVar("T")


class SnapshotFolder:
    """The snapshots of one index, `<folder>/<name>.meta.json` + `<name>.snap-*/`."""

    def __init__(self, folder: Path, name: str, *, legacy: str | None = None) -> None:
        """`legacy`: a regular expression for files and folders of an older snapshot
        layout, removed like unreferenced snapshots."""
        self.folder = Path(folder)
        self.name = name
        self.meta_path = self.folder / f"{name}.meta.json"
        self._lock_path = self.folder / f"{name}.lock"
        self._pattern = re.compile(re.escape(name) + r"\.snap-[0-9a-z-]+")
        self._legacy = re.compile(legacy) if legacy else None

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        try:
            handle = open(self._lock_path, "a+b")  # noqa: SIM115
        except PermissionError:  # a read-only data folder: snapshots can still be read
            if mode != fcntl.LOCK_SH:
                raise
            handle = open(self._lock_path if self._lock_path.exists() else self.meta_path, "rb")  # noqa: SIM115
        with handle:
            fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def load(self, read: Callable[[dict, Path], T | None]) -> T | None:
        """`read(meta, snapshot_folder)` for the current snapshot; None when there is
        none or `read` finds it unusable (a damaged or foreign snapshot)."""
        if not self.meta_path.is_file():
            return None
        try:
            with self._locked(fcntl.LOCK_SH):
                meta = json.loads(self.meta_path.read_text())
                sub = meta.get("folder")
                if not isinstance(sub, str) or not self._pattern.fullmatch(sub):
                    return None
                return read(meta, self.folder / sub)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
            log.info("ignoring the %s snapshot: %s", self.name, exc)
            return None

    def save(self, meta: dict, write: Callable[[Path], None]) -> bool:
        """`write(new_folder)` fills a fresh sub-folder; then the meta file (with
        "folder" set) is switched atomically and unreferenced sub-folders removed."""
        token = f"{int(time.time() * 1000)}-{os.getpid()}-{secrets.token_hex(3)}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._locked(fcntl.LOCK_EX):
                sub = self.folder / f"{self.name}.snap-{token}"
                sub.mkdir()
                try:
                    write(sub)
                    tmp = self.folder / f"{self.meta_path.name}.{token}.tmp"
                    tmp.write_text(json.dumps({**meta, "folder": sub.name}))
                    os.replace(tmp, self.meta_path)
                except BaseException:
                    shutil.rmtree(sub, ignore_errors=True)
                    raise
                self._remove_unreferenced(sub.name)
            return True
        except (OSError, ValueError, RuntimeError) as exc:  # a read-only data dir
            log.warning("could not write the %s snapshot: %s", self.name, exc)
            return False

    def _remove_unreferenced(self, keep: str) -> None:
        """Other snapshot folders and temp files of this index (caller holds the lock)."""
        for path in self.folder.iterdir():
            if path.name == keep:
                continue
            if path.is_dir() and self._pattern.fullmatch(path.name):
                shutil.rmtree(path, ignore_errors=True)  # open memory maps stay valid
            elif self._legacy is not None and self._legacy.match(path.name):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            elif path.name.startswith(f"{self.meta_path.name}.") and path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)

    def snapshot_folders(self) -> list[Path]:
        return sorted(p for p in self.folder.glob(f"{self.name}.snap-*") if p.is_dir())


class SnapshotWriter(Generic[S]):
    """Saves the newest state handed to it, from a daemon thread, one save at a time.

    `submit` never blocks on a save; states submitted while one is being written are
    coalesced to the newest. `wait()` returns when nothing is pending (tests, CLI).
    """

    def __init__(self, save: Callable[[S], None], name: str) -> None:
        self._save = save
        self._name = name
        self._cond = threading.Condition()
        self._pending: S | None = None
        self._busy = False
        self._thread: threading.Thread | None = None

    def submit(self, state: S) -> None:
        with self._cond:
            self._pending = state
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None:
                    self._cond.wait()
                state, self._pending, self._busy = self._pending, None, True
            try:
                self._save(state)
            except Exception:
                log.exception("%s: could not save a snapshot", self._name)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no save is pending or running; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True


class DerivedState(Generic[S]):
    """The state searches read, plus the locks of the mechanism above.

    - `current`: read without a lock (states are never changed in place).
    - `catching_up()`: the catch-up lock, a context manager yielding False when
      another thread holds it and `wait` is False.
    - `swap(new)`: install a new state (a short lock: the assignment alone).
    """

    def __init__(self, initial: S) -> None:
        self._state = initial
        self._swap_lock = threading.Lock()
        self._catch_up_lock = threading.RLock()

    @property
    def current(self) -> S:
        return self._state

    def swap(self, new: S) -> None:
        with self._swap_lock:
            self._state = new

    @contextlib.contextmanager
    def catching_up(self, *, wait: bool = True) -> Iterator[bool]:
        if not self._catch_up_lock.acquire(blocking=wait):
            yield False
            return
        try:
            yield True
        finally:
            self._catch_up_lock.release()
