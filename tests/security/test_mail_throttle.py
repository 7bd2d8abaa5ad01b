"""Mails anyone can ask for are throttled per recipient and per IP, with counters in
the database: two app instances (as two web processes) on one database share them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperwire.domain.rate_limits import RateLimit
from paperwire.services.mail_throttle import allow_mail
from paperwire.store.accounts_tables import throttle_counters
from paperwire.web.app import create_app
from tests.accounts.conftest import csrf_of, make_user
from tests.security.instances import app_instances


@pytest.fixture
def two_instances(tmp_path, database_url) -> Iterator[list]:
    with app_instances(tmp_path / "data", database_url, rate_limit_login="1000/60",
                       mail_throttle_recipient="3/3600", mail_throttle_ip="5/3600") as containers:
        yield containers


def _mails(container) -> int:
    container.jobs.drain()
    return len(list(container.settings.outbox_dir.glob("*.eml")))


def _notice(html: str) -> str:
    return html.split('<section class="notice-page">', 1)[1].split("</section>", 1)[0]


def _post(client, path, **data):
    token = csrf_of(client.get("/login").text)
    return client.post(path, data=data | {"csrf_token": token})


def test_per_recipient_limit_holds_across_two_instances(two_instances):
    a, b = two_instances
    make_user(a, "alice")
    clients = [TestClient(create_app(a)), TestClient(create_app(b))]
    answers = set()
    for i in range(8):  # alternate instances, with and without an account
        client = clients[i % 2]
        path = "/login/email-link" if i % 4 < 2 else "/forgot-password"
        reply = _post(client, path, email="alice@example.org")
        assert reply.status_code == 200
        answers.add(_notice(reply.text))
    assert len(answers) == 1  # a throttled request answers exactly like the others
    assert _mails(a) == 3


def test_per_ip_limit_across_addresses(two_instances):
    a, b = two_instances
    for n in range(8):
        make_user(a, f"user{n}")
    clients = [TestClient(create_app(a)), TestClient(create_app(b))]
    for n in range(8):
        _post(clients[n % 2], "/forgot-password", email=f"user{n}@example.org")
    assert _mails(b) == 5  # the sixth address from the same IP got nothing


def test_subscribe_is_throttled_per_ip(two_instances):
    a, b = two_instances
    clients = [TestClient(create_app(a)), TestClient(create_app(b))]
    throttled = []
    for i in range(8):  # eight addresses from one IP, alternating instances
        token = csrf_of(clients[i % 2].get("/subscribe").text)
        reply = clients[i % 2].post("/subscribe", data={"email": f"reader{i}@example.org",
                                                        "frequency": "daily",
                                                        "csrf_token": token})
        assert reply.status_code == 200, reply.text
        throttled.append("a moment ago" in reply.text)
    assert throttled == [False] * 5 + [True] * 3
    assert _mails(a) == 5


def test_counter_is_one_row_per_recipient(two_instances):
    a, _ = two_instances
    limit = RateLimit.parse(a.settings.mail_throttle_recipient)
    start = 1_000_000.5
    results = [allow_mail(a.engine, a.settings, recipient="X@example.org", ip="",
                          now=start + n) for n in range(4)]
    assert results == [True, True, True, False]
    with a.engine.connect() as conn:
        rows = conn.execute(select(throttle_counters.c.count, throttle_counters.c.window_start)
                            .where(throttle_counters.c.key == "x@example.org")).all()
        # The window starts at the first mail; the refused fourth is not counted.
        assert [tuple(r) for r in rows] == [(3, start)]
        assert conn.execute(select(func.count()).select_from(throttle_counters)).scalar() == 1
    assert not allow_mail(a.engine, a.settings, recipient="x@example.org", ip="",
                          now=start + limit.window_s - 0.5)
    # Once the window is over, a new one starts counting again.
    assert allow_mail(a.engine, a.settings, recipient="x@example.org", ip="",
                      now=start + limit.window_s)
