"""Library import (BibTeX, RIS, CSL-JSON with a match report) and export routes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from paperwire.services import library
from paperwire.services.community import CommunityError
from paperwire.services.library import transfer
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import error_response, html_error, json_error

router = APIRouter(tags=["library"])

FormatName = Literal["bibtex", "ris", "csljson"]


def arxiv_fetcher(container):
    """Fetch unknown arXiv ids through the arXiv source, unless settings forbid it."""
    if not container.settings.library_import_fetch:
        return None
    return container.arxiv_api.by_ids


def _import(container, user, data: bytes, filename: str, fmt: str | None,
            collection_id: int | None) -> transfer.ImportReport:
    return transfer.import_references(
        container.engine, user, data, filename=filename, fmt=fmt,
        fetch_arxiv=arxiv_fetcher(container), collection_id=collection_id,
    )


@router.get("/library/import", summary="The import form")
def import_form(request: Request, container: ContainerDep) -> Response:
    user = current_user(request)
    if user is None:
        return html_error(request, CommunityError("Log in first.", 401))
    return page(request, "library/import.html", {
        "report": None, "error": None,
        "collections": library.list_collections(container.engine, user.id, user),
    })


@router.post("/library/import", summary="Import a BibTeX / RIS / CSL-JSON file (form)")
async def import_submit(request: Request, container: ContainerDep) -> Response:
    user = current_user(request)
    if user is None:
        return html_error(request, CommunityError("Log in first.", 401))
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    collections = await run_in_threadpool(library.list_collections, container.engine, user.id,
                                          user)
    context = {"report": None, "error": None, "collections": collections}
    if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
        context["error"] = "Choose a file to import."
        return page(request, "library/import.html", context, status_code=400)
    data = await upload.read(transfer.MAX_IMPORT_BYTES + 1)
    fmt = form.get("format") or None
    if fmt not in (None, "bibtex", "ris", "csljson"):
        fmt = None
    raw_collection = str(form.get("collection_id") or "")
    collection_id = int(raw_collection) if raw_collection.isdigit() else None
    try:
        report = await run_in_threadpool(
            _import, container, user, data, upload.filename or "", fmt, collection_id
        )
    except CommunityError as exc:
        if exc.status in (401, 403, 404):
            return html_error(request, exc)
        context["error"] = exc.message
        return page(request, "library/import.html", context, status_code=exc.status)
    context["report"] = report
    return page(request, "library/import.html", context)


@router.post("/api/library/import", summary="Import a reference file (the request body)")
async def api_import(
    request: Request,
    container: ContainerDep,
    format: Annotated[FormatName | None, Query()] = None,
    filename: Annotated[str, Query(max_length=300)] = "",
    collection: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    user = current_user(request)
    if user is None:
        return json_error(CommunityError("Log in first.", 401))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) >= transfer.MAX_IMPORT_BYTES:
        return json_error(CommunityError(
            f"Imports must be smaller than {transfer.MAX_IMPORT_BYTES // (1024 * 1024)} MB.", 413
        ))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size >= transfer.MAX_IMPORT_BYTES:
            return json_error(CommunityError(
                f"Imports must be smaller than {transfer.MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
                413,
            ))
        chunks.append(chunk)
    try:
        report = await run_in_threadpool(
            _import, container, user, b"".join(chunks), filename, format, collection
        )
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(report.as_json())


def _export(request: Request, container, fmt: str | None, collection: int | None,
            tag: str | None, as_api: bool) -> Response:
    user = current_user(request)
    if fmt is None:
        if user is None:
            return html_error(request, CommunityError("Log in first.", 401))
        return page(request, "library/export.html", {
            "collections": library.list_collections(container.engine, user.id, user),
            "tags": library.user_tags(container.engine, user.id),
            "collection": collection, "tag": tag,
        })
    try:
        exported = transfer.export_library(
            container.engine, user, fmt=fmt, collection_id=collection, tag=tag
        )
    except CommunityError as exc:
        return error_response(request, exc, "json" if as_api else "html")
    return Response(
        exported.text,
        media_type=exported.media_type + "; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "X-Paperwire-Count": str(exported.count),
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/library/export", summary="Export your library, a collection or a tag")
def export_page(
    request: Request,
    container: ContainerDep,
    format: Annotated[FormatName | None, Query()] = None,
    collection: Annotated[str | None, Query(max_length=9, pattern=r"^\d{0,9}$")] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    return _export(request, container, format, int(collection) if collection else None,
                   tag or None, False)


@router.get("/api/library/export", summary="Export as BibTeX, RIS or CSL-JSON")
def api_export(
    request: Request,
    container: ContainerDep,
    format: Annotated[FormatName, Query()] = "bibtex",
    collection: Annotated[str | None, Query(max_length=9, pattern=r"^\d{0,9}$")] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    return _export(request, container, format, int(collection) if collection else None,
                   tag or None, True)
