"""Shared CLI plumbing: build the container, turn known errors into one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from paperwire.config import load_settings
from paperwire.store.db import DatabaseUnavailable
from paperwire.store.migrate import SchemaTooNew
from paperwire.wiring import Container, build_container


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def open_container(*, migrate: bool = True) -> Iterator[Container]:
    """Build the container from settings; exit with one clear line on setup errors."""
    try:
        container = build_container(load_settings())
        if migrate:
            container.prepare_database()
    except (DatabaseUnavailable, SchemaTooNew, ValueError) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    try:
        yield container
    finally:
        container.close()


def is_terminal() -> bool:
    return sys.stderr.isatty()
