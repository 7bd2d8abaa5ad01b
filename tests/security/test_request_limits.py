"""Per-IP request limits are counted in the database: two app instances on one database
(as two web processes, each with its own engine) share every limit, also when requests
arrive at both at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.domain.rate_limits import RateLimit
from paperwire.store import throttles
from paperwire.store.accounts_tables import throttle_counters
from paperwire.web.app import create_app
from tests.accounts.conftest import csrf_of
from tests.accounts.live_server import LiveServer
from tests.security.instances import app_instances


@pytest.fixture
def two_instances(tmp_path, database_url) -> Iterator[list]:
    with app_instances(tmp_path / "data", database_url, rate_limit_login="3/60",
                       rate_limit_api="5/60") as containers:
        yield containers


def test_the_login_limit_holds_across_two_instances(two_instances):
    clients = [TestClient(create_app(c)) for c in two_instances]
    tokens = [csrf_of(client.get("/login").text) for client in clients]
    codes = []
    for n in range(8):  # alternate instances, as a load balancer would
        client = clients[n % 2]
        codes.append(client.post("/login", data={"login": f"nobody{n}", "password": "wrong",
                                                  "csrf_token": tokens[n % 2]}).status_code)
    assert codes == [401, 401, 401] + [429] * 5
    refused = clients[1].post("/login", data={"login": "x", "password": "y",
                                              "csrf_token": tokens[1]})
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_parallel_requests_to_two_servers_get_exactly_the_limit(two_instances):
    """Twelve API requests at once, six to each server: exactly five (the limit) pass."""
    servers = [LiveServer(create_app(c)) for c in two_instances]
    for server in servers:
        server.__enter__()
    try:
        barrier = threading.Barrier(12)
        codes: list[int] = []
        lock = threading.Lock()

        def ask(url: str) -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                barrier.wait()
                code = client.get("/api/me").status_code
            with lock:
                codes.append(code)

        threads = [threading.Thread(target=ask, args=(servers[n % 2].url,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    assert sorted(codes) == [401] * 5 + [429] * 7


def test_a_refused_request_counts_for_none_of_its_keys(two_instances):
    """A request checked against two keys (its IP and its account) is counted against
    both or neither: a refusal by one limit leaves the other's count as it was."""
    engine = two_instances[0].engine
    tight, loose = RateLimit(1, 60), RateLimit(10, 60)
    hits = [throttles.Hit("api", "ip:192.0.2.1", loose), throttles.Hit("api", "user:7", tight)]
    assert throttles.take_all(engine, hits, 1000.0).allowed
    refused = throttles.take_all(engine, hits, 1010.0)
    assert not refused.allowed and refused.retry_after_s == 50
    with engine.connect() as conn:
        counts = dict(conn.execute(select(throttle_counters.c.key,
                                          throttle_counters.c.count)).all())
    assert counts == {"ip:192.0.2.1": 1, "user:7": 1}
    assert throttles.take_all(engine, hits, 1060.0).allowed  # user:7's window is over


def test_counters_idle_for_two_days_are_dropped(two_instances):
    engine = two_instances[0].engine
    limit = RateLimit(5, 60)
    assert throttles.take_all(engine, [throttles.Hit("api", "ip:192.0.2.9", limit)], 1000.0).allowed
    later = 1000.0 + throttles.KEEP_S + 1
    assert throttles.take_all(engine, [throttles.Hit("api", "ip:192.0.2.10", limit)], later).allowed
    with engine.connect() as conn:
        keys = conn.execute(select(throttle_counters.c.key)).scalars().all()
    assert keys == ["ip:192.0.2.10"]


def test_a_key_seen_full_is_refused_without_a_database_write(two_instances):
    """Past its limit, a client's further requests cost this process no write; the other
    process, which has not seen the key full, still asks the database and refuses too."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "throttle_counters" in statement:
            statements.append(statement)

    first, second = (TestClient(create_app(c)) for c in two_instances)
    codes = [first.get("/api/me").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    engines = [c.engine for c in two_instances]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        later = [first.get("/api/me") for _ in range(5)]
        assert [r.status_code for r in later] == [429] * 5
        assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in later)
        assert statements == []  # refused from memory
        assert second.get("/api/me").status_code == 429
        assert statements  # the other instance asked the database
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def test_full_keys_are_forgotten_when_their_window_ends():
    from paperwire.web.rate_limit import SIGNUP_CREATED, FullKeys

    limit = RateLimit(5, 60)
    ip, user = throttles.Hit("api", "ip:192.0.2.1", limit), throttles.Hit("api", "user:7", limit)
    keys = FullKeys(max_keys=3)
    keys.remember({("api", "user:7"): 1060.0, (SIGNUP_CREATED, "ip:192.0.2.1"): 1060.0}, 1000.0)
    assert len(keys) == 1  # the sign-up bucket is given back, so never remembered
    assert keys.wait_s([ip], 1010.0) == 0  # another key: ask the database
    assert keys.wait_s([ip, user], 1010.0) == 50.0
    assert keys.wait_s([user], 1060.0) == 0 and len(keys) == 0  # window over: forgotten
    keys.remember({("api", f"ip:{n}"): 2000.0 for n in range(3)}, 1100.0)
    keys.remember({("api", "ip:late"): 2000.0}, 1100.0)  # full: not remembered
    assert len(keys) == 3 and keys.wait_s([throttles.Hit("api", "ip:late", limit)], 1100) == 0


@pytest.fixture
def two_instances_large_api_limit(tmp_path, database_url) -> Iterator[list]:
    with app_instances(tmp_path / "data", database_url, rate_limit_api="64/60") as containers:
        yield containers


def _counter_writes(engine, statements: list[str]):
    from sqlalchemy import event

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO THROTTLE_COUNTERS"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    return lambda: event.remove(engine, "before_cursor_execute", count)


def test_a_large_limit_is_counted_in_leases_not_one_write_per_request(
        two_instances_large_api_limit):
    """64/60 leases 2 places at a time: 20 requests to one process cost 10 counter
    writes, and the database holds exactly the places handed out."""
    container = two_instances_large_api_limit[0]
    statements: list[str] = []
    stop = _counter_writes(container.engine, statements)
    try:
        client = TestClient(create_app(container))
        assert [client.get("/api/me").status_code for _ in range(20)] == [401] * 20
    finally:
        stop()
    assert len(statements) == 10
    with container.engine.connect() as conn:
        assert conn.execute(select(throttle_counters.c.count)).scalars().all() == [20]


def test_leases_never_let_more_than_the_limit_through_two_processes(
        two_instances_large_api_limit):
    """Alternating between two processes that each lease places: exactly the limit
    (64) of 80 requests pass; near the limit each process counts one place at a time."""
    clients = [TestClient(create_app(c)) for c in two_instances_large_api_limit]
    codes = [clients[n % 2].get("/api/me").status_code for n in range(80)]
    assert codes.count(401) == 64 and codes.count(429) == 16
    assert codes[:64] == [401] * 64


def test_a_lease_shrinks_to_single_places_near_the_limit(two_instances):
    engine = two_instances[0].engine
    hit = throttles.Hit("api", "ip:192.0.2.20", RateLimit(10, 60), amount=4)
    granted = []
    for n in range(6):
        taken = throttles.take_all(engine, [hit], 1000.0 + n)
        granted.append(taken.granted.get(hit) if taken.allowed else 0)
    assert granted == [4, 4, 1, 1, 0, 0]
    assert throttles.take_all(engine, [hit], 1060.0).granted == {hit: 4}  # a new window


def test_lease_sizes():
    from paperwire.domain.rate_limits import lease_places

    assert lease_places(RateLimit(5, 60)) == 1  # login-sized limits: every request asks
    assert lease_places(RateLimit(600, 60)) == 18
    assert lease_places(RateLimit(10**9, 60)) == 100


def test_a_request_refused_by_one_key_returns_its_leased_place():
    from paperwire.web.rate_limit import Leases

    hit = throttles.Hit("api", "ip:192.0.2.1", RateLimit(64, 60), amount=2)
    leases = Leases()
    leases.add(hit, 1000.0, 2, 1000.0)
    assert leases.take(hit, 1001.0)
    leases.put_back(hit)
    assert leases.take(hit, 1002.0) and not leases.take(hit, 1003.0)
    leases.add(hit, 1000.0, 3, 1000.0)
    assert not leases.take(hit, 1060.0)  # the window is over: the lease lapses


def test_concurrent_requests_lose_no_leased_places(two_instances_large_api_limit):
    """Sixteen requests at once to one server (each may count a lease), then one at a
    time until refused: exactly the limit (64) passes, so no leased place was dropped."""
    server = LiveServer(create_app(two_instances_large_api_limit[0]))
    server.__enter__()
    try:
        barrier = threading.Barrier(16)
        codes: list[int] = []
        lock = threading.Lock()

        def ask() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                barrier.wait()
                code = client.get("/api/me").status_code
            with lock:
                codes.append(code)

        threads = [threading.Thread(target=ask) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while len(codes) < 100 and (code := client.get("/api/me").status_code) != 429:
                codes.append(code)
    finally:
        server.__exit__(None, None, None)
    assert codes.count(401) == 64 and len(codes) == 64
