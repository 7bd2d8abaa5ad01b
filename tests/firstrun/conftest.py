"""Fixtures: the site's seeded database (tests/web)."""

from tests.web.conftest import seeded  # noqa: F401
