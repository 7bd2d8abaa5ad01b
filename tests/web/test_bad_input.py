"""Junk in every parameter of every site/API/feed route: a clear 4xx, never a 5xx."""

from __future__ import annotations

import pytest

from paperwire.web.routes import api, feeds, health, markdown, pages, search_pages

JUNK = [
    "",
    "-1",
    "0",
    "99999999999999999999",
    "1e309",
    "NaN",
    "2025-02-30",
    "2025-W99",
    "2025-13",
    "'; DROP TABLE papers; --",
    "<script>alert(1)</script>",
    "%00",
    "\x00",
    "../../etc/passwd",
    "ü" * 600,
    "2506.11924v0",
    "https://arxiv.org/abs/",
    "*",
    '"',
    "{}",
    "[]",
]
PATH_JUNK = [
    "junk",
    "9999.99999",
    "2506.1",
    "..%2F..%2Fetc",
    "%3Cscript%3E",
    "a" * 400,
    "hep-th%2F",
    "%00",
]


def my_routes():
    for module in (api, feeds, health, markdown, pages, search_pages):
        for route in module.router.routes:
            if "GET" in getattr(route, "methods", ()):
                yield route


def test_every_route_survives_junk(seeded, client):
    checked = 0
    for route in my_routes():
        path_params = [p.name for p in route.dependant.path_params]
        query_params = [p.alias for p in route.dependant.query_params]
        paths = [route.path]
        for junk in PATH_JUNK if path_params else []:
            path = route.path
            for name in path_params:
                path = path.replace("{" + name + ":path}", junk).replace("{" + name + "}", junk)
            paths.append(path)
        for index, path in enumerate(paths):
            if "{" in path:
                continue
            requests = [{}]
            if index <= 1:  # query junk on the plain path and on one junk path value
                requests += [{name: junk} for name in query_params for junk in JUNK]
            for params in requests:
                response = client.get(path, params=params)
                assert response.status_code < 500, (
                    path,
                    params,
                    response.status_code,
                    response.text[:300],
                )
                checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    "url, status, message",
    [
        ("/?date=2025-02-30", 422, "not a real calendar date"),
        ("/?date=1800-01-01", 422, "out of range"),
        ("/?week=2025-W60", 422, "not a week of 2025"),
        ("/?month=2025-13", 422, "use 01 to 12"),
        ("/?date=2025-06-16&week=2025-W25", 422, "only one of"),
        ("/?p=-1", 422, "greater than or equal to 0"),
        ("/papers/not-an-id", 404, "is not an arXiv id"),
        ("/papers/2101.00001", 404, "No paper 2101.00001"),
        ("/api/daily_papers?limit=1000", 422, "less than or equal to 100"),
        ("/api/daily_papers?limit=0", 422, "greater than or equal to 1"),
        ("/api/daily_papers?p=-3", 422, "greater than or equal to 0"),
        ("/api/daily_papers?sort=best", 422, "publishedAt"),
        ("/api/daily_papers?week=W9", 422, "week must look like 2025-W09"),
        ("/api/papers/2101.00001", 404, "not found"),
        ("/api/papers?cursor=!!!", 422, "cursor"),
        ("/api/papers/search", 422, "Field required"),
        ("/search?q=x&after=yesterday", 422, "after must be a date"),
    ],
)
def test_clear_messages(seeded, client, url, status, message):
    response = client.get(url)
    assert response.status_code == status, response.text[:300]
    assert message in response.text
