"""Request guards shared by the site's routers."""

from __future__ import annotations

from fastapi import HTTPException, Request


async def reject_nul_characters(request: Request) -> None:
    """NUL never belongs in a query or path (and PostgreSQL refuses it in text): answer 422.

    async because it does no I/O: a sync dependency would cost a thread-pool hop.
    """
    for key, value in request.query_params.multi_items():
        if "\x00" in key or "\x00" in value:
            raise HTTPException(422, f"The parameter {key!r} contains a NUL character.")
    for key, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise HTTPException(422, f"The path part {key!r} contains a NUL character.")
