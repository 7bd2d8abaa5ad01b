"""No GET route writes to the database: a fingerprint of every table is the same before and
after GETting every GET route of the app (with plausible parameters), signed out and in.

Except the rate-limit counters: every request under /api counts against the per-IP limit,
GET included (web/rate_limit.py), and that count is the only write a GET may make."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import MetaData, select

from paperwire.services import community as community_services
from paperwire.services import library, subscriptions
from paperwire.services.subscriptions import Choices, add_subscriber
from paperwire.web.app import create_app
from tests.accounts.conftest import csrf_of, login, make_user, new_client
from tests.web.conftest import seed

PAPER = "2506.11924"


def fingerprint(engine) -> dict[str, str]:
    metadata = MetaData()
    metadata.reflect(engine)
    prints = {}
    with engine.connect() as conn:
        for name, table in sorted(metadata.tables.items()):
            if name == "throttle_counters":
                continue
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            prints[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return prints


def get_routes(app) -> set[str]:
    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes,
                                prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                yield route.methods, prefix + route.path

    return {path for methods, path in walk(app.routes) if "GET" in methods}


def test_no_get_route_writes(container):
    seed(container.engine)
    engine = container.engine
    owner = make_user(container, "owner")
    make_user(container, "boss", role="admin")
    comment = community_services.add_comment(engine, owner, PAPER, "A comment.")
    collection = library.create_collection(engine, owner, "Reading")
    library.add_to_collection(engine, owner, collection.id, PAPER)
    subscriber, _ = add_subscriber(engine, "reader@example.org", Choices(), confirmed=False)
    token = {purpose: link.rsplit("/", 1)[1] for purpose, link in (
        ("confirm", subscriptions.confirm_link(container.settings, subscriber)),
        ("settings", subscriptions.settings_link(container.settings, subscriber)),
        ("unsubscribe", subscriptions.unsubscribe_link(container.settings, subscriber)),
    )}
    values = {
        "paper_id": PAPER, "ref": PAPER, "name": "nvidia", "ext": "xml", "username": "owner",
        "collection_id": str(collection.id), "comment_id": str(comment.id),
    }
    routes = get_routes(create_app(container))
    paths = []
    for route in sorted(routes):
        path = route
        for purpose in ("confirm", "settings", "unsubscribe"):
            if route.startswith((f"/subscribe/{purpose}/", f"/{purpose}/")):
                path = path.replace("{token}", token[purpose])
        path = re.sub(r"\{(\w+)(?::path)?\}", lambda m: values.get(m.group(1), "x"), path)
        paths.append(path)
    paths += ["/?date=2025-06-16", "/search?q=diffusion", "/login/magic?token=x",
              "/verify-email?token=x", "/reset-password?token=x", "/authors/Min-Seop%20Kwak",
              f"/papers/{PAPER}?format=json", "/digest/preview?email=reader@example.org"]
    clients = [new_client(container)]
    for name in ("owner", "boss"):
        client = new_client(container)
        assert login(client, name).status_code == 303
        csrf_of(client.get("/settings").text)
        clients.append(client)
    for client in clients:  # one warm-up round: first visits may set cookies, not rows
        client.get("/")
    before = fingerprint(engine)
    for client in clients:
        for path in paths:
            assert client.get(path, follow_redirects=False).status_code < 500, path
    after = fingerprint(engine)
    if after != before:  # find the culprit, one GET at a time
        for client in clients:
            for path in paths:
                start = fingerprint(engine)
                client.get(path, follow_redirects=False)
                end = fingerprint(engine)
                changed = [name for name in end if end[name] != start.get(name)]
                assert changed == [], f"GET {path} wrote to {changed}"
        raise AssertionError("GET requests wrote to the database")
    assert not subscriber.is_confirmed
