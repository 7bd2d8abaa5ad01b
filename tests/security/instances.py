"""Two app containers on one database, as two web processes with their own engines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paperwire.config import load_settings
from paperwire.wiring import Container, build_container


@contextmanager
def app_instances(data_dir: Path, database_url: str, count: int = 2,
                  **settings: object) -> Iterator[list[Container]]:
    containers = []
    try:
        for _ in range(count):
            container = build_container(load_settings(
                data_dir=data_dir, database_url=database_url, embedder="none",
                base_url="http://testserver", **settings,
            ))
            containers.append(container)
            container.prepare_database()
        yield containers
    finally:
        for container in containers:
            container.close()
