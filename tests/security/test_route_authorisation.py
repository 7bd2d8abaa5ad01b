"""Every state-changing route, as five callers: signed out, another user, the owner, a
moderator and an admin. The routes come from the app's own route table, so a new route
without a row here fails `test_every_state_changing_route_is_in_the_table`.

A row says who may act. "Refused" means 401, 403 or 404, or a redirect to the login
page; "allowed" means anything else below 500 (bad input may still be a 400, but it is
never a refusal of the caller). Each caller gets a fresh object of its own test, made
by the row's `setup` for the owner, so one caller's success cannot hide another's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from paperwire.services import community as community_services
from paperwire.services import library
from paperwire.services.accounts.api_tokens import create_api_token
from paperwire.web.app import create_app
from tests.accounts.conftest import (  # noqa: F401 - fixtures: local arXiv, settings
    add_paper,
    arxiv_stub,
    csrf_of,
    login,
    make_user,
    new_client,
    settings,
)

ANON, OTHER, OWNER, MOD, ADMIN = "signed out", "another user", "owner", "moderator", "admin"
ACTORS = (ANON, OTHER, OWNER, MOD, ADMIN)
SIGNED_IN = frozenset({OTHER, OWNER, MOD, ADMIN})
EVERYONE = frozenset(ACTORS)
PUBLIC = frozenset({"public"})  # authenticates by password or signed token itself
PAPER = "2506.11924"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class World:
    container: Any
    users: dict[str, Any]  # actor -> User (no entry for ANON)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    allowed: frozenset[str]
    setup: Callable[[World], tuple[str, dict]]  # -> (path, {"data": ...} or {"json": ...})


def _owner(world: World):
    return world.users[OWNER]


def _fixed(path: str, **body) -> Callable[[World], tuple[str, dict]]:
    return lambda world: (path, body)


def _comment(world: World) -> int:
    return community_services.add_comment(
        world.container.engine, _owner(world), PAPER, "A comment by the owner."
    ).id


def _collection(world: World) -> int:
    view = library.create_collection(world.container.engine, _owner(world),
                                     world.fresh("Owner's list "))
    return view.id


def _collection_with_paper(world: World) -> int:
    collection_id = _collection(world)
    library.add_to_collection(world.container.engine, _owner(world), collection_id, PAPER)
    return collection_id


BIBTEX = b"@misc{x, title={A Paper About Things}, eprint={2506.11924}, archivePrefix={arXiv}}\n"


def _slug(world: World) -> str:
    return library.create_collection(world.container.engine, _owner(world),
                                     world.fresh("HF list "), is_public=True).slug


def _slug_and_item(world: World) -> tuple[str, int]:
    view = library.create_collection(world.container.engine, _owner(world),
                                     world.fresh("HF list "), is_public=True)
    item = library.add_to_collection(world.container.engine, _owner(world), view.id, PAPER)
    return view.slug, item.id


def _follow(world: World) -> int:
    world.counter += 1
    return library.follow(world.container.engine, _owner(world), "search",
                          f"topic {world.counter}").id


def _token(world: World) -> int:
    from sqlalchemy import select

    from paperwire.store.accounts_tables import api_tokens

    create_api_token(world.container.engine, _owner(world).id, world.fresh("script "))
    with world.container.engine.connect() as conn:
        return conn.execute(select(api_tokens.c.id).order_by(api_tokens.c.id.desc())).scalar()


def _victim(world: World) -> str:
    name = world.fresh("victim")
    make_user(world.container, name)
    return name


def _claim(world: World) -> int:
    world.counter += 1
    paper_id = f"2506.{20000 + world.counter}"
    add_paper(world.container, paper_id=paper_id, authors=("Owner Person",))
    claim = community_services.request_claim(world.container.engine, _owner(world), paper_id,
                                             "Owner Person")
    return claim.id


def _org(world: World, *, with_member: bool) -> str:
    name = world.fresh("lab-")
    admin = world.users[ADMIN]
    community_services.create_organization(world.container.engine, admin, name)
    if with_member:
        community_services.add_member(world.container.engine, admin, name,
                                      _owner(world).username)
    return name


def _claimed_paper(world: World) -> str:
    """A new paper the owner is an approved author of."""
    paper_id = f"2506.{30000 + world.counter}"
    world.counter += 1
    add_paper(world.container, paper_id=paper_id, authors=("Owner Person",))
    claim = community_services.request_claim(world.container.engine, _owner(world), paper_id,
                                             "Owner Person")
    community_services.decide_claim(world.container.engine, world.users[ADMIN], claim.id, True)
    return paper_id


def _org_paper(world: World):
    """The owner, a member and approved author, tries to move a paper another organization
    has: only an admin may (tests/security/test_org_links.py covers the plain link)."""
    paper_id = _claimed_paper(world)
    elsewhere = _org(world, with_member=False)
    community_services.link_paper(world.container.engine, world.users[ADMIN], elsewhere, paper_id)
    name = _org(world, with_member=True)
    return f"/community/organizations/{name}/papers", {"data": {"paper_id": paper_id}}


def _public(route: str, method: str = "POST", **body) -> Row:
    """Anyone may call it; with made-up credentials it answers 4xx, never a 5xx."""
    return Row(method, route, PUBLIC, lambda world: (route, body))


ROWS: list[Row] = [
    # Accounts: open to anyone by nature (they authenticate by password or signed token).
    _public("/signup", data={"username": "newperson", "email": "new@example.org",
                             "password": "a long enough password"}),
    _public("/login", data={"login": "nobody", "password": "wrong"}),
    _public("/login/email-link", data={"email": "nobody@example.org"}),
    _public("/login/magic", data={"token": "not-a-token"}),
    _public("/verify-email", data={"token": "not-a-token"}),
    _public("/forgot-password", data={"email": "nobody@example.org"}),
    _public("/reset-password", data={"token": "not-a-token", "password": "another password 1"}),
    _public("/logout"),
    _public("/subscribe", data={"email": "reader@example.org", "frequency": "daily",
                                "paper_count": "5"}),
    Row("POST", "/subscribe/settings/{token}", PUBLIC,
        _fixed("/subscribe/settings/forged", data={"frequency": "daily", "paper_count": "5"})),
    Row("POST", "/unsubscribe/{token}", PUBLIC, _fixed("/unsubscribe/forged")),
    Row("POST", "/subscribe/confirm/{token}", PUBLIC, _fixed("/subscribe/confirm/forged")),
    Row("POST", "/subscribe/settings/{token}/revoke", PUBLIC,
        _fixed("/subscribe/settings/forged/revoke")),
    # Signed-in users, acting on their own account and library.
    Row("POST", "/settings/tokens", SIGNED_IN, _fixed("/settings/tokens", data={"name": "x"})),
    Row("POST", "/settings/resend-verification", SIGNED_IN,
        _fixed("/settings/resend-verification")),
    Row("POST", "/api/tokens", SIGNED_IN, _fixed("/api/tokens", json={"name": "x"})),
    Row("POST", "/api/papers/{paper_id:path}/upvote", SIGNED_IN,
        _fixed(f"/api/papers/{PAPER}/upvote")),
    Row("DELETE", "/api/papers/{paper_id:path}/upvote", SIGNED_IN,
        _fixed(f"/api/papers/{PAPER}/upvote")),
    Row("POST", "/papers/{paper_id:path}/upvote", SIGNED_IN, _fixed(f"/papers/{PAPER}/upvote")),
    Row("POST", "/api/papers/index", SIGNED_IN, _fixed("/api/papers/index",
                                                        json={"arxivId": PAPER})),
    Row("POST", "/submit", SIGNED_IN, _fixed("/submit", data={"arxiv_id": PAPER})),
    Row("POST", "/api/papers/{paper_id:path}/comments", SIGNED_IN,
        _fixed(f"/api/papers/{PAPER}/comments", json={"body": "Hello."})),
    Row("POST", "/papers/{paper_id:path}/comments", SIGNED_IN,
        _fixed(f"/papers/{PAPER}/comments", data={"body": "Hello."})),
    Row("POST", "/papers/{paper_id:path}/claim", SIGNED_IN,
        _fixed(f"/papers/{PAPER}/claim", data={"author_name": "Ada Lovelace"})),
    Row("POST", "/papers/{paper_id:path}/save", SIGNED_IN, _fixed(f"/papers/{PAPER}/save")),
    Row("POST", "/papers/{paper_id:path}/mark", SIGNED_IN,
        _fixed(f"/papers/{PAPER}/mark", data={"kind": "read", "value": "true"})),
    Row("POST", "/papers/{paper_id:path}/note", SIGNED_IN,
        _fixed(f"/papers/{PAPER}/note", data={"note": "mine"})),
    Row("POST", "/papers/{paper_id:path}/tags", SIGNED_IN,
        _fixed(f"/papers/{PAPER}/tags", data={"tags": "one, two"})),
    Row("POST", "/collections", SIGNED_IN, lambda w: ("/collections",
                                                     {"data": {"name": w.fresh("List ")}})),
    Row("POST", "/api/library/papers/{paper_id:path}/marks/{kind}", SIGNED_IN,
        _fixed(f"/api/library/papers/{PAPER}/marks/read")),
    Row("DELETE", "/api/library/papers/{paper_id:path}/marks/{kind}", SIGNED_IN,
        _fixed(f"/api/library/papers/{PAPER}/marks/read")),
    Row("PUT", "/api/library/papers/{paper_id:path}/note", SIGNED_IN,
        _fixed(f"/api/library/papers/{PAPER}/note", json={"note": "mine"})),
    Row("PUT", "/api/library/papers/{paper_id:path}/tags", SIGNED_IN,
        _fixed(f"/api/library/papers/{PAPER}/tags", json={"tags": ["one"]})),
    Row("POST", "/api/library/papers/{paper_id:path}", SIGNED_IN,
        _fixed(f"/api/library/papers/{PAPER}")),
    Row("DELETE", "/api/library/papers/{paper_id:path}", SIGNED_IN,
        _fixed(f"/api/library/papers/{PAPER}")),
    Row("POST", "/api/me/collections", SIGNED_IN,
        lambda w: ("/api/me/collections", {"json": {"name": w.fresh("List ")}})),
    # Objects with an owner: only the owner (moderators and admins may delete comments).
    Row("POST", "/settings/tokens/{token_id}/revoke", frozenset({OWNER}),
        lambda w: (f"/settings/tokens/{_token(w)}/revoke", {})),
    Row("DELETE", "/api/tokens/{token_id}", frozenset({OWNER}),
        lambda w: (f"/api/tokens/{_token(w)}", {})),
    Row("PATCH", "/api/comments/{comment_id}", frozenset({OWNER}),
        lambda w: (f"/api/comments/{_comment(w)}", {"json": {"body": "Rewritten."}})),
    Row("POST", "/comments/{comment_id}/edit", frozenset({OWNER}),
        lambda w: (f"/comments/{_comment(w)}/edit", {"data": {"body": "Rewritten."}})),
    Row("DELETE", "/api/comments/{comment_id}", frozenset({OWNER, MOD, ADMIN}),
        lambda w: (f"/api/comments/{_comment(w)}", {})),
    Row("POST", "/comments/{comment_id}/delete", frozenset({OWNER, MOD, ADMIN}),
        lambda w: (f"/comments/{_comment(w)}/delete", {})),
    Row("POST", "/papers/{paper_id:path}/collections", frozenset({OWNER}),
        lambda w: (f"/papers/{PAPER}/collections",
                   {"data": {"collection_id": str(_collection(w)), "action": "add"}})),
    Row("POST", "/collections/{collection_id}/edit", frozenset({OWNER}),
        lambda w: (f"/collections/{_collection(w)}/edit", {"data": {"name": w.fresh("New ")}})),
    Row("POST", "/collections/{collection_id}/delete", frozenset({OWNER}),
        lambda w: (f"/collections/{_collection(w)}/delete", {})),
    Row("PATCH", "/api/me/collections/{collection_id}", frozenset({OWNER}),
        lambda w: (f"/api/me/collections/{_collection(w)}", {"json": {"name": w.fresh("N ")}})),
    Row("DELETE", "/api/me/collections/{collection_id}", frozenset({OWNER}),
        lambda w: (f"/api/me/collections/{_collection(w)}", {})),
    Row("POST", "/api/me/collections/{collection_id}/items", frozenset({OWNER}),
        lambda w: (f"/api/me/collections/{_collection(w)}/items", {"json": {"paperId": PAPER}})),
    Row("DELETE", "/api/me/collections/{collection_id}/items/{paper_id:path}", frozenset({OWNER}),
        lambda w: (f"/api/me/collections/{_collection_with_paper(w)}/items/{PAPER}", {})),
    Row("POST", "/follows", SIGNED_IN,
        _fixed("/follows", data={"kind": "category", "value": "cs.CL"})),
    Row("POST", "/api/me/follows", SIGNED_IN,
        _fixed("/api/me/follows", json={"kind": "category", "value": "cs.CL"})),
    Row("POST", "/follows/{follow_id}/delete", frozenset({OWNER}),
        lambda w: (f"/follows/{_follow(w)}/delete", {})),
    Row("DELETE", "/api/me/follows/{follow_id}", frozenset({OWNER}),
        lambda w: (f"/api/me/follows/{_follow(w)}", {})),
    Row("POST", "/library/import", frozenset({OWNER}),
        lambda w: ("/library/import", {"data": {"collection_id": str(_collection(w)),
                                                "format": "bibtex"},
                                       "files": {"file": ("refs.bib", BIBTEX)}})),
    Row("POST", "/api/library/import", frozenset({OWNER}),
        lambda w: (f"/api/library/import?format=bibtex&collection={_collection(w)}",
                   {"content": BIBTEX})),
    Row("POST", "/for-you/keywords", SIGNED_IN,
        _fixed("/for-you/keywords", data={"include": "diffusion", "exclude": ""})),
    Row("POST", "/for-you/my-papers", SIGNED_IN,
        _fixed("/for-you/my-papers", data={"author": "Ada Lovelace"})),
    Row("POST", "/for-you/feed-token", SIGNED_IN, _fixed("/for-you/feed-token")),
    Row("POST", "/for-you/feed-token/delete", SIGNED_IN, _fixed("/for-you/feed-token/delete")),
    Row("PUT", "/api/me/feed-settings", SIGNED_IN,
        _fixed("/api/me/feed-settings", json={"includeKeywords": ["diffusion"]})),
    # The Hugging Face compatible collections API.
    Row("POST", "/api/collections", SIGNED_IN,
        lambda w: ("/api/collections", {"json": {"title": w.fresh("HF ")}})),
    Row("POST", "/api/collections/{slug:path}/items", frozenset({OWNER}),
        lambda w: (f"/api/collections/{_slug(w)}/items",
                   {"json": {"item": {"id": PAPER, "type": "paper"}}})),
    Row("PATCH", "/api/collections/{slug:path}/items/{item_id}", frozenset({OWNER}),
        lambda w: ("/api/collections/{}/items/{}".format(*_slug_and_item(w)),
                   {"json": {"note": "mine"}})),
    Row("DELETE", "/api/collections/{slug:path}/items/{item_id}", frozenset({OWNER}),
        lambda w: ("/api/collections/{}/items/{}".format(*_slug_and_item(w)), {})),
    Row("PATCH", "/api/collections/{slug:path}", frozenset({OWNER}),
        lambda w: (f"/api/collections/{_slug(w)}", {"json": {"title": w.fresh("T ")}})),
    Row("DELETE", "/api/collections/{slug:path}", frozenset({OWNER}),
        lambda w: (f"/api/collections/{_slug(w)}", {})),
    # Moderators and admins.
    Row("POST", "/moderation/papers/{paper_id:path}/flags", frozenset({MOD, ADMIN}),
        _fixed(f"/moderation/papers/{PAPER}/flags", data={"flag": "featured", "value": "true"})),
    # Admins only.
    Row("POST", "/moderation/claims/{claim_id}/{decision}", frozenset({ADMIN}),
        lambda w: (f"/moderation/claims/{_claim(w)}/approve", {})),
    Row("POST", "/moderation/users/{username}/{action}", frozenset({ADMIN}),
        lambda w: (f"/moderation/users/{_victim(w)}/suspend", {})),
    Row("POST", "/community/organizations", frozenset({ADMIN}),
        lambda w: ("/community/organizations", {"data": {"name": w.fresh("org-")}})),
    Row("POST", "/community/organizations/{name}/members", frozenset({ADMIN}),
        lambda w: (f"/community/organizations/{_org(w, with_member=False)}/members",
                   {"data": {"username": _owner(w).username}})),
    # Moving a paper away from another organization: admins only.
    Row("POST", "/community/organizations/{name}/papers", frozenset({ADMIN}), _org_paper),
]


def state_changing_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route that is not a plain read, from the app's route table."""
    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's lazily included routers
                yield from walk(route.original_router.routes,
                                prefix + route.include_context.prefix)
            elif hasattr(route, "routes") and not getattr(route, "methods", None):
                yield from walk(getattr(route, "routes", []) or [], prefix + route.path)
            elif getattr(route, "methods", None):
                yield route.methods, prefix + route.path

    return {(m, path) for methods, path in walk(app.routes) for m in methods & STATE_CHANGING}


def test_every_state_changing_route_is_in_the_table(container):
    routes = state_changing_routes(create_app(container))
    table = {(row.method, row.route) for row in ROWS}
    assert routes - table == set(), "add a row for each new state-changing route"
    assert table - routes == set(), "a row names a route that no longer exists"


def _refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("location", "")
    return response.status_code in (302, 303, 307) and location.startswith("/login")


@pytest.fixture
def world(container):
    add_paper(container, authors=("Ada Lovelace", "Owner Person"))
    users = {
        OTHER: make_user(container, "other"),
        OWNER: make_user(container, "owner"),
        MOD: make_user(container, "mod", role="moderator"),
        ADMIN: make_user(container, "boss", role="admin"),
    }
    return World(container, users)


def _clients(world: World) -> dict[str, tuple[Any, str]]:
    clients = {}
    for actor in ACTORS:
        client = new_client(world.container)
        if actor != ANON:
            assert login(client, world.users[actor].username).status_code == 303
        clients[actor] = (client, csrf_of(client.get("/login" if actor == ANON
                                                     else "/settings").text))
    return clients


def test_who_may_call_each_state_changing_route(world):
    clients = _clients(world)
    wrong = []
    for row in ROWS:
        for actor in ACTORS:
            if row.method == "POST" and row.route == "/logout":
                continue  # would end the actor's session for the rows after it
            client, token = clients[actor]
            path, body = row.setup(world)
            headers = {"X-CSRF-Token": token}
            if "data" in body:
                body = {**body, "data": {**body["data"], "csrf_token": token}}
            response = client.request(row.method, path, headers=headers, follow_redirects=False,
                                      **body)
            if response.status_code >= 500:
                wrong.append(f"{row.method} {path} as {actor}: {response.status_code}")
            elif row.allowed is not PUBLIC and (actor in row.allowed) == _refused(response):
                expected = "allowed" if actor in row.allowed else "refused"
                wrong.append(f"{row.method} {path} as {actor}: {response.status_code}, "
                             f"expected {expected}: {response.text[:160]!r}")
    assert wrong == [], "\n".join(wrong)


def test_logout_needs_nothing_but_ends_only_the_callers_session(world):
    clients = _clients(world)
    owner, token = clients[OWNER]
    assert owner.post("/logout", data={"csrf_token": token},
                      follow_redirects=False).status_code == 303
    other, _ = clients[OTHER]
    assert other.get("/settings", follow_redirects=False).status_code == 200
