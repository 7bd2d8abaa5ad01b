"""FastAPI dependencies, declared once as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paperwire.wiring import Container


async def get_container(request: Request) -> Container:
    # async: FastAPI runs sync dependencies in its thread pool, a costly hop for nothing.
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]
