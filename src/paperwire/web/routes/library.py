"""Library routes: saved papers, notes, tags, marks and collections.

HTML forms (work without JavaScript) redirect after POST; `/api/library/...` and
`/api/me/collections/...` answer JSON. Every route acts for the signed-in user on that
user's rows only; another user's private collection is a 404 everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from paperwire.services import library
from paperwire.services.community import CommunityError
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import (
    Format,
    PaperId,
    RowId,
    error_response,
    html_error,
    json_error,
    paper_url,
    see_other,
)
from paperwire.web.serializers import card_json

router = APIRouter(tags=["library"])
T = TypeVar("T")

PAGE_SIZE = 50
Next = Annotated[str, Form(max_length=2000)]


def _safe_next(value: str | None, fallback: str) -> str:
    """Only same-site paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return fallback


def _login_required(request: Request, format: str) -> Response:
    return error_response(request, CommunityError("Log in first.", 401), format)


def _form(request: Request, change: Callable[[], T], back: str | Callable[[T], str]) -> Response:
    """A no-JavaScript form's answer: make the change, then 303 to `back` (a path, or a
    function of the change's result); a refusal is the site's error page."""
    try:
        result = change()
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other(back(result) if callable(back) else back)


# ------------------------------------------------------------------ library page


def library_json(result: library.LibraryPage) -> dict[str, object]:
    return {
        "total": result.total,
        "offset": result.query.offset,
        "notice": result.notice,
        "mode": result.mode_used,
        "collection": result.collection.as_json() if result.collection else None,
        "tags": [{"tag": t, "count": n} for t, n in result.tags],
        "papers": [card_json(card) | {"library": item.as_json()} for card, item in result.entries],
    }


@router.get("/library", summary="Your library (HTML, or JSON with format=json)")
async def library_index(
    request: Request,
    container: ContainerDep,
    q: Annotated[str, Query(max_length=500)] = "",
    mode: Annotated[Literal["keyword", "semantic", "hybrid"], Query()] = "hybrid",
    collection: Annotated[str | None, Query(max_length=9, pattern=r"^\d{0,9}$")] = None,
    tag: Annotated[str | None, Query(max_length=60)] = None,
    read: Annotated[Literal["read", "unread", ""], Query()] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=1000)] = 1,
    format: Format = "html",
) -> Response:
    user = current_user(request)
    if user is None:
        return _login_required(request, format)
    query = library.LibraryQuery(
        q=q, mode=mode, collection_id=int(collection) if collection else None,
        tag=tag or None, read=read or None,
        limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE,
    )
    try:
        result = await run_in_threadpool(
            library.library_page, container.engine, container.search, user, query
        )
        collections = await run_in_threadpool(
            library.list_collections, container.engine, user.id, user
        )
    except CommunityError as exc:
        return error_response(request, exc, format)
    if format == "json":
        return FastJSON(library_json(result) | {
            "collections": [c.as_json() for c in collections]
        })
    return page(
        request,
        "library/library.html",
        {"result": result, "collections": collections, "page_number": page_number},
    )


# ------------------------------------------------------------------ saving (forms)


@router.get("/papers/{paper_id:path}/save", summary="Save form (works without JavaScript)")
def save_form(request: Request, container: ContainerDep, paper_id: PaperId,
              next: Annotated[str, Query(max_length=2000)] = "") -> Response:
    user = current_user(request)
    if user is None:
        return see_other(f"/login?next=/papers/{paper_id}/save")
    state = library.paper_state(container.engine, user.id, paper_id)
    with container.engine.connect() as conn:
        from paperwire.services.papers import cards_by_id

        card = cards_by_id(conn, [paper_id]).get(paper_id)
    if card is None:
        return html_error(request, CommunityError(f"There is no paper {paper_id!r} here.", 404))
    return page(request, "library/save.html", {
        "card": card, "state": state, "next": _safe_next(next, paper_url(paper_id)),
        "collections": library.list_collections(container.engine, user.id, user),
    })


@router.post("/papers/{paper_id:path}/save", summary="Save or remove (no-JavaScript form)")
def save_submit(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    action: Annotated[Literal["add", "remove"], Form()] = "add",
    collection_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    next: Next = "",
) -> Response:
    user = current_user(request)

    def change() -> None:
        if action == "add":
            library.save_paper(container.engine, user, paper_id)
            if collection_id:
                library.add_to_collection(container.engine, user, collection_id, paper_id)
        else:
            library.remove_paper(container.engine, user, paper_id)

    return _form(request, change, _safe_next(next, paper_url(paper_id)))


@router.post("/papers/{paper_id:path}/mark", summary="Mark read / not interested (form)")
def mark_submit(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    kind: Annotated[Literal["read", "not_interested"], Form()],
    on: Annotated[bool, Form()] = True,
    next: Next = "",
) -> Response:
    return _form(
        request,
        lambda: library.set_mark(container.engine, current_user(request), paper_id, kind, on),
        _safe_next(next, paper_url(paper_id)),
    )


@router.post("/papers/{paper_id:path}/note", summary="Write your private note (form)")
def note_submit(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    note: Annotated[str, Form(max_length=25000)] = "",
    next: Next = "",
) -> Response:
    return _form(
        request,
        lambda: library.set_note(container.engine, current_user(request), paper_id, note),
        _safe_next(next, paper_url(paper_id)),
    )


@router.post("/papers/{paper_id:path}/tags", summary="Set your tags on a paper (form)")
def tags_submit(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    tags: Annotated[str, Form(max_length=2000)] = "",
    next: Next = "",
) -> Response:
    return _form(
        request,
        lambda: library.set_tags(container.engine, current_user(request), paper_id, tags),
        _safe_next(next, paper_url(paper_id)),
    )


@router.post("/papers/{paper_id:path}/collections", summary="Add to / remove from a collection")
def paper_collection_submit(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    collection_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    action: Annotated[Literal["add", "remove"], Form()] = "add",
    next: Next = "",
) -> Response:
    user = current_user(request)

    def change() -> None:
        if action == "add":
            library.add_to_collection(container.engine, user, collection_id, paper_id)
        else:
            library.remove_from_collection(container.engine, user, collection_id, paper_id=paper_id)

    return _form(request, change, _safe_next(next, paper_url(paper_id)))


# ------------------------------------------------------------------ collections (pages)


@router.get("/collections", summary="Your collections (HTML or JSON)")
def collections_index(request: Request, container: ContainerDep, format: Format = "html"):
    user = current_user(request)
    if user is None:
        return _login_required(request, format)
    found = library.list_collections(container.engine, user.id, user)
    if format == "json":
        return FastJSON({"collections": [c.as_json() for c in found]})
    return page(request, "library/collections.html", {"collections": found, "errors": {}})


@router.post("/collections", summary="Create a collection (form)")
def collections_create(
    request: Request,
    container: ContainerDep,
    name: Annotated[str, Form(max_length=500)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    public: Annotated[bool, Form()] = False,
    next: Next = "",
) -> Response:
    user = current_user(request)
    try:
        created = library.create_collection(
            container.engine, user, name, description=description, is_public=public
        )
    except CommunityError as exc:
        if exc.status == 401 or user is None:
            return html_error(request, exc)
        found = library.list_collections(container.engine, user.id, user)
        return page(request, "library/collections.html",
                    {"collections": found, "errors": {exc.field or "name": exc.message},
                     "typed": {"name": name, "description": description}},
                    status_code=exc.status)
    return see_other(_safe_next(next, created.url))


@router.get("/collections/{collection_id}", summary="A collection (HTML or JSON)")
def collection_page(
    request: Request, container: ContainerDep, collection_id: RowId, format: Format = "html"
) -> Response:
    user = current_user(request)
    try:
        view, items = library.collection_items_of(container.engine, collection_id, user)
    except CommunityError as exc:
        return error_response(request, exc, format)
    from paperwire.services.papers import cards_by_id

    with container.engine.connect() as conn:
        cards = cards_by_id(conn, [i.paper_id for i in items])
    entries = [(cards[i.paper_id], i) for i in items if i.paper_id in cards]
    if format == "json":
        return FastJSON(view.as_json() | {
            "papers": [card_json(c) | {"itemId": i.id, "position": i.position, "note": i.note}
                       for c, i in entries]
        })
    mine = user is not None and user.id == view.owner_id
    return page(request, "library/collection.html",
                {"collection": view, "entries": entries, "mine": mine})


@router.post("/collections/{collection_id}/edit", summary="Rename / describe / share (form)")
def collection_edit(
    request: Request,
    container: ContainerDep,
    collection_id: RowId,
    name: Annotated[str, Form(max_length=500)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    public: Annotated[bool, Form()] = False,
) -> Response:
    return _form(
        request,
        lambda: library.update_collection(
            container.engine, current_user(request), collection_id,
            name=name, description=description, is_public=public,
        ),
        lambda view: view.url,
    )


@router.post("/collections/{collection_id}/delete", summary="Delete a collection (form)")
def collection_delete(request: Request, container: ContainerDep, collection_id: RowId):
    return _form(
        request,
        lambda: library.delete_collection(container.engine, current_user(request), collection_id),
        "/collections",
    )


# ------------------------------------------------------------------ JSON API


class NoteBody(BaseModel):
    note: str = Field("", max_length=25000)


class TagsBody(BaseModel):
    tags: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=100)


class CollectionBody(BaseModel):
    name: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=5000)
    public: bool | None = None


class ItemBody(BaseModel):
    paperId: str = Field(max_length=64)
    note: str = Field("", max_length=5000)


def _json(call, *args, **kwargs) -> Response:
    try:
        result = call(*args, **kwargs)
    except CommunityError as exc:
        return json_error(exc)
    if result is None:
        return Response(status_code=204)
    return FastJSON(result.as_json() if hasattr(result, "as_json") else result)


@router.get("/api/library", summary="Your library as JSON (same as /library?format=json)")
async def api_library(request: Request, container: ContainerDep,
                      q: Annotated[str, Query(max_length=500)] = "",
                      mode: Annotated[Literal["keyword", "semantic", "hybrid"], Query()] = "hybrid",
                      collection: Annotated[
                          str | None, Query(max_length=9, pattern=r"^\d{0,9}$")] = None,
                      tag: Annotated[str | None, Query(max_length=60)] = None,
                      read: Annotated[Literal["read", "unread", ""], Query()] = "",
                      page_number: Annotated[int, Query(alias="page", ge=1, le=1000)] = 1):
    return await library_index(request, container, q, mode, collection, tag, read, page_number,
                               "json")


@router.get("/api/library/saved", summary="Which of these papers you saved (for cards)")
def api_saved(request: Request, container: ContainerDep,
              ids: Annotated[str, Query(max_length=20000)] = "") -> Response:
    user = current_user(request)
    if user is None:
        return FastJSON({"saved": []})
    wanted = [i for i in ids.split(",") if i][:500]
    return FastJSON({"saved": sorted(library.saved_ids(container.engine, user.id, wanted))})


@router.get("/api/library/papers/{paper_id:path}/state", summary="Saved and marks for a paper")
def api_paper_state(request: Request, container: ContainerDep, paper_id: PaperId) -> Response:
    user = current_user(request)
    if user is None:
        return json_error(CommunityError("Log in first.", 401))
    return FastJSON(library.paper_state(container.engine, user.id, paper_id).as_json())


@router.post("/api/library/papers/{paper_id:path}/marks/{kind}", summary="Mark a paper")
def api_mark(request: Request, container: ContainerDep, paper_id: PaperId,
             kind: Literal["read", "not_interested"]) -> Response:
    return _json(library.set_mark, container.engine, current_user(request), paper_id, kind, True)


@router.delete("/api/library/papers/{paper_id:path}/marks/{kind}", summary="Lift a mark")
def api_unmark(request: Request, container: ContainerDep, paper_id: PaperId,
               kind: Literal["read", "not_interested"]) -> Response:
    return _json(library.set_mark, container.engine, current_user(request), paper_id, kind, False)


@router.put("/api/library/papers/{paper_id:path}/note", summary="Write your private note")
def api_note(request: Request, container: ContainerDep, paper_id: PaperId,
             body: NoteBody) -> Response:
    return _json(library.set_note, container.engine, current_user(request), paper_id, body.note)


@router.put("/api/library/papers/{paper_id:path}/tags", summary="Replace your tags on a paper")
def api_tags(request: Request, container: ContainerDep, paper_id: PaperId,
             body: TagsBody) -> Response:
    return _json(library.set_tags, container.engine, current_user(request), paper_id, body.tags)


@router.get("/api/library/papers/{paper_id:path}", summary="Your library item for a paper")
def api_item(request: Request, container: ContainerDep, paper_id: PaperId) -> Response:
    user = current_user(request)
    if user is None:
        return json_error(CommunityError("Log in first.", 401))
    item = library.library_item(container.engine, user.id, paper_id)
    if item is None:
        return json_error(CommunityError("This paper is not in your library.", 404))
    return FastJSON(item.as_json())


@router.post("/api/library/papers/{paper_id:path}", summary="Save a paper (idempotent)")
def api_save(request: Request, container: ContainerDep, paper_id: PaperId) -> Response:
    return _json(library.save_paper, container.engine, current_user(request), paper_id)


@router.delete("/api/library/papers/{paper_id:path}", summary="Remove a paper from your library")
def api_remove(request: Request, container: ContainerDep, paper_id: PaperId) -> Response:
    return _json(library.remove_paper, container.engine, current_user(request), paper_id)


@router.get("/api/me/collections", summary="Your collections")
def api_collections(request: Request, container: ContainerDep) -> Response:
    return collections_index(request, container, "json")


@router.post("/api/me/collections", summary="Create a collection", status_code=201)
def api_collection_create(request: Request, container: ContainerDep,
                          body: CollectionBody) -> Response:
    try:
        view = library.create_collection(
            container.engine, current_user(request), body.name or "",
            description=body.description or "", is_public=bool(body.public),
        )
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(view.as_json(), status_code=201)


@router.get("/api/me/collections/{collection_id}", summary="A collection with its papers")
def api_collection(request: Request, container: ContainerDep, collection_id: RowId):
    return collection_page(request, container, collection_id, "json")


@router.patch("/api/me/collections/{collection_id}", summary="Change a collection")
def api_collection_update(request: Request, container: ContainerDep, collection_id: RowId,
                          body: CollectionBody) -> Response:
    return _json(library.update_collection, container.engine, current_user(request),
                 collection_id, name=body.name, description=body.description,
                 is_public=body.public)


@router.delete("/api/me/collections/{collection_id}", summary="Delete a collection")
def api_collection_delete(request: Request, container: ContainerDep,
                          collection_id: RowId) -> Response:
    return _json(library.delete_collection, container.engine, current_user(request),
                 collection_id)


@router.post("/api/me/collections/{collection_id}/items", summary="Add a paper to a collection")
def api_collection_add(request: Request, container: ContainerDep, collection_id: RowId,
                       body: ItemBody) -> Response:
    try:
        item = library.add_to_collection(container.engine, current_user(request), collection_id,
                                         body.paperId, note=body.note)
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON({"itemId": item.id, "paperId": item.paper_id, "position": item.position,
                     "note": item.note})


@router.delete("/api/me/collections/{collection_id}/items/{paper_id:path}",
               summary="Take a paper out of a collection")
def api_collection_remove(request: Request, container: ContainerDep, collection_id: RowId,
                          paper_id: PaperId) -> Response:
    try:
        removed = library.remove_from_collection(container.engine, current_user(request),
                                                 collection_id, paper_id=paper_id)
    except CommunityError as exc:
        return json_error(exc)
    if not removed:
        return json_error(CommunityError("That paper is not in this collection.", 404))
    return Response(status_code=204)
