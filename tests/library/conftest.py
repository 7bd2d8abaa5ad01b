"""Fixtures for the library tests: the accounts fixtures plus signed-in clients."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import (  # noqa: F401  (fixtures)
    add_paper,
    arxiv_stub,
    csrf_of,
    login,
    make_user,
    new_client,
    settings,
)


class Browser:
    """A signed-in client with its CSRF token, for forms and the JSON API."""

    def __init__(self, container, username: str) -> None:
        self.user = make_user(container, username)
        self.client = new_client(container)
        assert login(self.client, username).status_code == 303
        self.token = csrf_of(self.client.get("/settings").text)

    def post(self, path, data=None, **kw):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token},
                                follow_redirects=False, **kw)

    def api(self, method, path, **kw):
        headers = {"X-CSRF-Token": self.token, "Accept": "application/json"}
        return self.client.request(method, path, headers=headers, **kw)


@pytest.fixture
def alice(container):
    return Browser(container, "alice")


@pytest.fixture
def bob(container):
    return Browser(container, "bob")


@pytest.fixture
def papers(container):
    add_paper(container, "2506.00001", "Diffusion models for images", ("Ada Lovelace",))
    add_paper(container, "2506.00002", "Transformers for language", ("Alan Turing",))
    add_paper(container, "2506.00003", "Graph neural networks", ("Grace Hopper",))
    return ["2506.00001", "2506.00002", "2506.00003"]
