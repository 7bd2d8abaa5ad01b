"""The real HttpClient against a real local server: retries, backoff, timeouts, rate limit."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from paperwire.sources.http_client import (
    HttpClient,
    SourceRefused,
    SourceUnavailable,
    _retry_after,
)
from tests.integration.live.conftest import Reply

OK = Reply(200, b'{"ok": true}', {"Content-Type": "application/json"})


def get_json(client: HttpClient, url: str, **kwargs):
    return client.get(url, decode=json.loads, **kwargs)


def test_sends_user_agent_and_query(http_client, upstream, net_settings):
    upstream.route("/thing", OK, q="x y")
    assert get_json(http_client, f"{upstream.url}/thing", params={"q": "x y"}) == {"ok": True}
    (seen,) = upstream.seen("/thing")
    assert seen.headers["User-Agent"] == net_settings.user_agent
    assert seen.params == {"q": "x y"}


def test_server_error_then_success_is_retried(http_client, upstream):
    upstream.route("/flaky", Reply(500, b"oops"), Reply(502, b"bad gateway"), OK)
    assert get_json(http_client, f"{upstream.url}/flaky") == {"ok": True}
    assert len(upstream.seen("/flaky")) == 3


def test_429_honours_retry_after(http_client, upstream):
    upstream.route("/limited", Reply(429, b"slow down", {"Retry-After": "1"}), OK)
    assert get_json(http_client, f"{upstream.url}/limited") == {"ok": True}
    first, second = upstream.seen("/limited")
    assert second.at - first.at >= 0.95


def test_truncated_body_is_retried(http_client, upstream):
    body = json.dumps({"items": list(range(500))}).encode()
    upstream.route("/cut", Reply(200, body, cut_at=100), Reply(200, body))
    assert get_json(http_client, f"{upstream.url}/cut") == {"items": list(range(500))}
    assert len(upstream.seen("/cut")) == 2


def test_body_cut_without_length_fails_to_decode_and_is_retried(http_client, upstream):
    body = json.dumps({"items": list(range(50))}).encode()
    upstream.route("/cut", Reply(200, body[:40], no_length=True), Reply(200, body))
    assert get_json(http_client, f"{upstream.url}/cut") == {"items": list(range(50))}
    assert len(upstream.seen("/cut")) == 2


def test_timeout_is_retried(upstream):
    upstream.route("/slow", Reply(200, b'{"late": 1}', delay_s=1.2), OK)
    with HttpClient(user_agent="t", timeout_s=0.4, retries=3, backoff_s=0.01) as client:
        # The slow answer would be {"late": 1}: getting OK means the client gave up on it.
        assert get_json(client, f"{upstream.url}/slow") == {"ok": True}
    assert len(upstream.seen("/slow")) >= 2


def test_permanent_failure_gives_up_with_a_clear_error(http_client, upstream):
    upstream.route("/down", Reply(503, b"maintenance"))
    with pytest.raises(SourceUnavailable) as failure:
        get_json(http_client, f"{upstream.url}/down", params={"a": "1"})
    assert len(upstream.seen("/down")) == 4  # 1 try + http_retries=3
    message = str(failure.value)
    assert f"{upstream.url}/down?a=1" in message
    assert "4 attempts" in message and "HTTP 503" in message


def test_client_errors_are_not_retried(http_client, upstream):
    upstream.route("/missing", Reply(404, b"not found"))
    with pytest.raises(SourceRefused, match="HTTP 404"):
        get_json(http_client, f"{upstream.url}/missing")
    assert len(upstream.seen("/missing")) == 1


def test_connection_refused_gives_up(net_settings):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        HttpClient.from_settings(net_settings) as client,
        pytest.raises(SourceUnavailable, match="could not connect"),
    ):
        get_json(client, f"http://127.0.0.1:{port}/x")


def test_backoff_doubles_with_jitter_and_is_capped(upstream):
    waits: list[float] = []
    client = HttpClient(
        user_agent="t", timeout_s=1, retries=4, backoff_s=1.0, max_wait_s=3.0, sleep=waits.append
    )
    upstream.route("/down", Reply(500, b""))
    with client, pytest.raises(SourceUnavailable):
        get_json(client, f"{upstream.url}/down")
    assert len(waits) == 4
    for wait, ceiling in zip(waits, [1.0, 2.0, 3.0, 3.0], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_rate_limit_spaces_requests_at_the_server(upstream):
    upstream.route("/api/query", OK)
    upstream.route("/other", OK)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with HttpClient(user_agent="t", timeout_s=3, sleep=sleep) as client:
        for _ in range(4):
            get_json(client, f"{upstream.url}/api/query", min_interval_s=0.3)
        throttled = len(waits)
        for _ in range(3):  # no limit asked: no waiting
            get_json(client, f"{upstream.url}/other")
    assert 1 <= throttled <= 3 and len(waits) == throttled  # the free requests never waited
    times = [seen.at for seen in upstream.seen("/api/query")]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    # The client spaces request starts 0.3 s apart (unspaced, the four take milliseconds).
    # The server notes each arrival on its own thread, late by up to a few hundred ms on
    # a busy machine (one gap of 0.05 s after a late one at load 4), so a single gap says
    # little: the span of all four is checked, with one interval of slack.
    assert len(gaps) == 3 and times[-1] - times[0] >= 0.6


def test_retry_after_accepts_seconds_and_http_dates():
    assert _retry_after("7") == 7.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= _retry_after(later) <= 30
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert _retry_after(earlier) == 0.0
