"""Hugging Face compatible collections API, so `huggingface_hub`'s collection calls work
against Paperwire with an API token as the bearer token.

Shapes follow what `huggingface_hub.HfApi` reads (hf_api.Collection / CollectionItem):
slugs are `owner/title-words-ID`; items are papers only. A private collection is a 404
for everyone but its owner, as on the rest of the site.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.services import accounts, library
from paperwire.services.community import CommunityError
from paperwire.services.library.collections import CollectionItem, CollectionView
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON
from paperwire.web.routes.community.common import json_error

router = APIRouter(tags=["hf-compatible collections"])
THEME = "blue"


def _collection_json(view: CollectionView, items: list[CollectionItem],
                     position: int = 0) -> dict[str, Any]:
    return {
        "slug": view.slug,
        "title": view.name,
        "description": view.description or None,
        "owner": {"name": view.owner, "type": "user", "fullname": view.owner},
        "items": [
            {"_id": str(i.id), "id": i.paper_id, "type": "paper", "position": i.position,
             "note": {"text": i.note} if i.note else None}
            for i in items
        ],
        "lastUpdated": view.updated_at.isoformat().replace("+00:00", "Z"),
        "position": position,
        "private": not view.is_public,
        "theme": THEME,
        "upvotes": 0,
        "url": view.url,
    }


def _resolve(request: Request, container, slug: str) -> CollectionView:
    """The collection behind a slug that the caller may see; 404 otherwise."""
    collection_id = library.id_from_slug(slug)
    if collection_id is None:
        raise CommunityError(f"There is no collection {slug[:100]!r} here.", 404)
    view = library.get_collection(container.engine, collection_id, current_user(request))
    owner = slug.split("/", 1)[0] if "/" in slug else view.owner
    if owner.casefold() != view.owner.casefold():
        raise CommunityError(f"There is no collection {slug[:100]!r} here.", 404)
    return view


def _full(request: Request, container, view: CollectionView) -> dict[str, Any]:
    view, items = library.collection_items_of(container.engine, view.id, current_user(request))
    return _collection_json(view, items)


@router.get("/api/whoami-v2", summary="Who the bearer token belongs to (HF compatible)")
def whoami(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return FastJSON({"error": "Invalid user token."}, status_code=401)
    return FastJSON({"type": "user", "id": str(user.id), "name": user.username,
                     "fullname": user.username, "orgs": [],
                     "auth": {"type": "access_token"}})


class CreateBody(BaseModel):
    title: str = Field(max_length=500)
    namespace: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=5000)
    private: bool = False


@router.post("/api/collections", summary="Create a collection (HF compatible)")
def create(request: Request, container: ContainerDep, body: CreateBody) -> Response:
    user = current_user(request)
    if user is None:
        return json_error(CommunityError("Send an API token as the bearer token.", 401))
    if body.namespace and body.namespace.casefold() != user.username.casefold():
        return json_error(CommunityError(
            f"You can create collections only in your own namespace ({user.username}).", 403))
    try:
        view = library.create_collection(container.engine, user, body.title,
                                         description=body.description or "",
                                         is_public=not body.private)
    except CommunityError as exc:
        if exc.status == 409:
            existing = library.find_collection_by_name(container.engine, user.id, body.title)
            return FastJSON({"error": exc.message, "slug": existing.slug if existing else None},
                            status_code=409)
        return json_error(exc)
    return FastJSON(_collection_json(view, []))


@router.get("/api/collections", summary="List collections (HF compatible)")
def list_all(
    request: Request,
    container: ContainerDep,
    owner: str | None = Query(None, max_length=100),
    item: str | None = Query(None, max_length=200),
    limit: int = Query(100, ge=1, le=100),
    sort: str | None = Query(None, max_length=30),
) -> Response:
    viewer = current_user(request)
    if not owner:
        return json_error(CommunityError("Say whose collections: ?owner=USERNAME.", 400))
    found = accounts.find_user(container.engine, owner)
    if found is None:
        return FastJSON([])
    views = library.list_collections(container.engine, found.id, viewer)
    wanted = None
    if item:
        kind, _, ref = item.partition("/")
        if kind != "papers":
            return FastJSON([])
        try:
            wanted = parse_arxiv_id(ref).id
        except InvalidArxivId:
            return FastJSON([])
    out = []
    for position, view in enumerate(views):
        _, items = library.collection_items_of(container.engine, view.id, viewer)
        if wanted is not None and all(i.paper_id != wanted for i in items):
            continue
        data = _collection_json(view, items[:4], position)  # the Hub lists up to 4 items
        del data["position"]  # the client numbers listed collections itself
        out.append(data)
        if len(out) >= limit:
            break
    return FastJSON(out)


class ItemRef(BaseModel):
    id: str = Field(max_length=100)
    type: str = Field(max_length=20)


class AddItemBody(BaseModel):
    item: ItemRef
    note: str | None = Field(None, max_length=5000)


class UpdateItemBody(BaseModel):
    position: int | None = Field(None, ge=0, le=100_000)
    note: str | None = Field(None, max_length=5000)


class UpdateBody(BaseModel):
    title: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=5000)
    private: bool | None = None
    position: int | None = None
    theme: str | None = Field(None, max_length=30)


@router.post("/api/collections/{slug:path}/items", summary="Add a paper (HF compatible)")
def add_item(request: Request, container: ContainerDep, slug: str, body: AddItemBody):
    try:
        view = _resolve(request, container, slug)
        if body.item.type != "paper":
            raise CommunityError("Paperwire collections hold papers: use item_type='paper'.", 400)
        try:
            paper_id = parse_arxiv_id(body.item.id).id
        except InvalidArxivId as exc:
            raise CommunityError(str(exc), 400) from None
        _, items = library.collection_items_of(container.engine, view.id, current_user(request))
        if any(i.paper_id == paper_id for i in items):
            raise CommunityError("This paper is already in the collection.", 409)
        library.add_to_collection(container.engine, current_user(request), view.id, paper_id,
                                  note=body.note or "")
        return FastJSON(_full(request, container, view))
    except CommunityError as exc:
        return json_error(exc)


@router.patch("/api/collections/{slug:path}/items/{item_id}",
              summary="Move an item or change its note (HF compatible)")
def update_item(request: Request, container: ContainerDep, slug: str, item_id: str,
                body: UpdateItemBody) -> Response:
    try:
        view = _resolve(request, container, slug)
        if not item_id.isdigit():
            raise CommunityError("There is no such item in this collection.", 404)
        library.update_collection_item(container.engine, current_user(request), view.id,
                                       int(item_id), note=body.note, position=body.position)
        return FastJSON({"success": True})
    except CommunityError as exc:
        return json_error(exc)


@router.delete("/api/collections/{slug:path}/items/{item_id}",
               summary="Remove an item (HF compatible)")
def delete_item(request: Request, container: ContainerDep, slug: str, item_id: str):
    try:
        view = _resolve(request, container, slug)
        removed = item_id.isdigit() and library.remove_from_collection(
            container.engine, current_user(request), view.id, item_id=int(item_id))
        if not removed:
            raise CommunityError("There is no such item in this collection.", 404)
        return FastJSON({"success": True})
    except CommunityError as exc:
        return json_error(exc)


@router.get("/api/collections/{slug:path}", summary="A collection (HF compatible)")
def get_one(request: Request, container: ContainerDep, slug: str) -> Response:
    try:
        return FastJSON(_full(request, container, _resolve(request, container, slug)))
    except CommunityError as exc:
        return json_error(exc)


@router.patch("/api/collections/{slug:path}", summary="Change title, description, privacy")
def update(request: Request, container: ContainerDep, slug: str, body: UpdateBody):
    try:
        view = _resolve(request, container, slug)
        view = library.update_collection(
            container.engine, current_user(request), view.id, name=body.title,
            description=body.description,
            is_public=None if body.private is None else not body.private,
        )
        return FastJSON({"success": True, "data": _full(request, container, view)})
    except CommunityError as exc:
        return json_error(exc)


@router.delete("/api/collections/{slug:path}", summary="Delete a collection (HF compatible)")
def delete(request: Request, container: ContainerDep, slug: str) -> Response:
    try:
        view = _resolve(request, container, slug)
        library.delete_collection(container.engine, current_user(request), view.id)
        return FastJSON({"success": True})
    except CommunityError as exc:
        return json_error(exc)
