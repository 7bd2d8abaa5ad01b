"""A minimal list of papers until the full site lands."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from paperwire.store.tables import papers
from paperwire.web.deps import ContainerDep

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(container: ContainerDep) -> str:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(papers.c.id, papers.c.title).order_by(papers.c.published_at.desc()).limit(100)
        ).all()
    items = "".join(f"<li>{escape(r.id)}: {escape(r.title)}</li>" for r in rows)
    return f"<!doctype html><title>Paperwire</title><h1>Paperwire</h1><ul>{items}</ul>"
