"""Fixtures for the database-operations tests: a second, empty database of the other kind."""

from __future__ import annotations

import pytest

from tests.conftest import BACKEND


def _empty(request, tmp_path, kind: str, name: str) -> str:
    if kind == "postgres":
        return request.getfixturevalue("_postgres_server").empty_database()
    return f"sqlite:///{tmp_path / name}"


@pytest.fixture
def other_url(request, tmp_path) -> str:
    """An empty database on the OTHER backend than `database_url`."""
    return _empty(request, tmp_path, "sqlite" if BACKEND == "postgres" else "postgres", "other.db")


@pytest.fixture
def same_kind_url(request, tmp_path) -> str:
    """An empty database on the SAME backend as `database_url`."""
    return _empty(request, tmp_path, BACKEND, "same.db")
