"""What the background work is doing, for the console and for the site.

The first-start fetch and the worker's steps run in the `paperwire serve` process (or a
child of it) while pages are served by uvicorn's processes, so the state is a small JSON
file per activity under `data_dir/activity/`, replaced atomically. Pages read it: the
front page shows the first-start fetch, the search notice a running embed.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

FIRST_RUN = "first-run"
EMBED = "embed"
STALE_AFTER_S = 15 * 60  # a "running" state not refreshed for this long is shown as stopped


@dataclass(frozen=True, slots=True)
class Activity:
    name: str
    state: str  # "running", "done" or "failed"
    message: str
    done: int = 0
    total: int = 0
    updated_at: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class ActivityBoard:
    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "activity"

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def set(self, name: str, state: str, message: str, *, done: int = 0, total: int = 0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        activity = Activity(name, state, message, done, total, datetime.now(UTC).isoformat())
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(activity), out)
        os.replace(tmp, self._path(name))

    def get(self, name: str, *, now: datetime | None = None) -> Activity | None:
        try:
            data = json.loads(self._path(name).read_text(encoding="utf-8"))
            activity = Activity(**data)
        except (OSError, ValueError, TypeError):
            return None
        if activity.running:
            try:
                updated = datetime.fromisoformat(activity.updated_at)
            except ValueError:
                return None
            age = ((now or datetime.now(UTC)) - updated).total_seconds()
            if age > STALE_AFTER_S:
                return Activity(name, "failed", "stopped before it finished",
                                activity.done, activity.total, activity.updated_at)
        return activity

    def clear(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()
