"""The worker's embedding step in a child process at a lower CPU priority.

`paperwire serve` runs the scheduled jobs next to the web processes. Embedding is the one
heavy step (minutes to most of an hour of full CPU for a large archive), so there it runs
in its own process started with `nice` +10: the kernel then gives the web processes the
CPU first, and the child's numpy/onnxruntime threads cannot hold the web process's GIL.
(`os.nice` in a thread would lower only that thread on Linux, not the inference threads
onnxruntime starts, and on other systems the whole process.) The child prints one line
per progress step, which the parent echoes, and writes the same progress to the activity
board, where the search page shows it.

Run by hand: `python -m paperwire.background_embed` (settings from PAPERWIRE_* variables).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable

from paperwire.services.activity import EMBED, ActivityBoard

NICENESS = 10
PROGRESS_EVERY_S = 5.0


def _lower_priority() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


def child_environment(settings) -> dict[str, str]:
    """The parent's settings that decide what the child embeds, as PAPERWIRE_* variables."""
    env = dict(os.environ)
    env.update(
        PAPERWIRE_DATABASE_URL=settings.database_url,
        PAPERWIRE_DATA_DIR=str(settings.data_dir),
        PAPERWIRE_EMBEDDER=settings.embedder,
        PAPERWIRE_EMBED_DEVICE=settings.embed_device,
    )
    return env


def run_embed_child(
    settings, *, echo: Callable[[str], None], should_stop: Callable[[], bool]
) -> str:
    """Start the child, echo its lines, stop it when asked; returns its last line."""
    command = [sys.executable, "-m", "paperwire.background_embed"]
    kwargs = {"preexec_fn": _lower_priority} if os.name == "posix" else {}
    child = subprocess.Popen(
        command, env=child_environment(settings), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, bufsize=1, **kwargs,
    )
    last = ""
    assert child.stdout is not None
    for line in child.stdout:
        line = line.rstrip()
        if line:
            last = line
            echo(f"worker embed: {line}")
        if should_stop():
            child.terminate()
            break
    code = child.wait()
    if code != 0 and not should_stop():
        raise RuntimeError(f"the embedding process ended with code {code}: {last}")
    return last or "nothing to embed"


def main() -> int:
    from paperwire.config import load_settings
    from paperwire.services.embeddings import embed_missing, rate_line
    from paperwire.wiring import build_container

    print(f"embedding in process {os.getpid()} at nice {os.nice(0)}", flush=True)
    container = build_container(load_settings())
    board = ActivityBoard(container.settings.data_dir)
    last_line = 0.0
    try:
        embedder = container.embedder
        if embedder is None:
            print("semantic search is off", flush=True)
            return 0

        def progress(done: int, total: int) -> None:
            nonlocal last_line
            now = time.monotonic()
            if done == 0 or done == total or now - last_line >= PROGRESS_EVERY_S:
                last_line = now
                message = f"embedded {done:,} of {total:,} papers"
                board.set(EMBED, "running", message, done=done, total=total)
                elapsed = time.monotonic() - started
                rate = f" ({done / elapsed:,.1f}/s)" if done and elapsed > 0 else ""
                print(message + rate, flush=True)

        started = time.monotonic()
        try:
            done = embed_missing(container.engine, embedder, progress=progress)
        except Exception as exc:
            board.set(EMBED, "failed", str(exc).splitlines()[0] if str(exc) else "failed")
            raise
        board.set(EMBED, "done", f"embedded {done:,} papers ({embedder.model_id})",
                  done=done, total=done)
        print(rate_line(done, time.monotonic() - started, embedder.model_id), flush=True)
        return 0
    finally:
        container.close()


if __name__ == "__main__":
    sys.exit(main())
