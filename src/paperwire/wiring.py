"""The one place that builds adapters from settings and hands them to services.

Each adapter is built on first use, so commands pay only for what they touch.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine

from paperwire.config import Settings
from paperwire.store.db import check_connection, create_db_engine
from paperwire.store.migrate import upgrade


class Container:
    """Adapters and services for one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.settings.database_url)

    def prepare_database(self) -> None:
        """Check the connection and migrate to the newest schema."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        check_connection(self.engine)
        upgrade(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def build_container(settings: Settings) -> Container:
    return Container(settings)
