"""Jinja globals for the library partials: what the signed-in user has for one paper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from jinja2 import Environment

from paperwire.services import library


@dataclass(frozen=True, slots=True)
class LibraryState:
    state: library.PaperState
    item: library.LibraryItem | None
    collections: list[library.CollectionView]


def library_state(request: Request, paper: Any) -> LibraryState | None:
    user = getattr(request.state, "user", None)
    if user is None:
        return None
    paper_id = str(paper.get("id") if isinstance(paper, dict) else getattr(paper, "id", paper))
    engine = request.app.state.container.engine
    return LibraryState(
        library.paper_state(engine, user.id, paper_id),
        library.library_item(engine, user.id, paper_id),
        library.list_collections(engine, user.id, user),
    )


def following(request: Request, kind: str, value: str, filters: dict | None = None):
    """The signed-in user's follow of this thing, or None."""
    user = getattr(request.state, "user", None)
    if user is None or not value:
        return None
    clean = {k: v for k, v in (filters or {}).items() if v}
    return library.find_follow(request.app.state.container.engine, user.id, kind, value, clean)


def install_library_globals(env: Environment) -> None:
    env.globals.update(library_state=library_state, following=following)
