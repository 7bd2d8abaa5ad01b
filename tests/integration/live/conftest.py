"""A real HTTP server on 127.0.0.1 that plays recorded-shape upstream responses.

Each test scripts routes: a path, the query parameters it must carry, and the
replies to give in turn (the last one repeats). Replies can be slow, cut off,
or errors, so the real HttpClient is exercised against real sockets.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from typer.testing import CliRunner

from paperwire.config import Settings, load_settings
from paperwire.sources.http_client import HttpClient
from paperwire.wiring import Container, build_container

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (to trigger client timeouts)
    cut_at: int | None = None  # announce the full length but send only this many bytes
    no_length: bool = False  # send no Content-Length and close the connection


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class _Route:
    path: str
    params: dict[str, str]
    replies: deque[Reply]


class Upstream:
    """The scripted server; `url` is its base URL."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.handle_error = lambda request, address: None  # clients hang up on purpose
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply, **params: str) -> None:
        """Answer GET `path` whose query includes `params` with `replies`, in turn."""
        self._routes.append(_Route(path, {k: str(v) for k, v in params.items()}, deque(replies)))

    def seen(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _next_reply(self, path: str, params: dict[str, str]) -> Reply:
        with self._lock:
            for route in self._routes:
                if route.path == path and all(params.get(k) == v for k, v in route.params.items()):
                    return route.replies.popleft() if len(route.replies) > 1 else route.replies[0]
        return Reply(404, b"no route for this request")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            with upstream._lock:
                upstream.requests.append(
                    Seen(parts.path, params, dict(self.headers.items()), time.monotonic())
                )
            reply = upstream._next_reply(parts.path, params)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
            self.wfile.write(body)
            self.wfile.flush()
            if reply.cut_at is not None:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def live_overrides(upstream: Upstream) -> dict[str, object]:
    """Settings that point every source at the local server, with tiny delays."""
    return {
        "hf_api_url": upstream.url,
        "arxiv_api_url": f"{upstream.url}/api/query",
        "arxiv_oai_url": f"{upstream.url}/oai",
        "arxiv_delay_s": 0.0,
        "http_timeout_s": 3.0,
        "http_retries": 3,
        "http_backoff_s": 0.01,
        "http_max_wait_s": 2.0,
        "user_agent": "Paperwire-tests/1.0 (+https://example.org/paperwire)",
    }


@pytest.fixture
def live_settings(settings: Settings, upstream: Upstream) -> Settings:
    return settings.model_copy(update=live_overrides(upstream))


@pytest.fixture
def live_container(live_settings: Settings) -> Iterator[Container]:
    container = build_container(live_settings)
    container.prepare_database()
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def net_settings(tmp_path, upstream: Upstream) -> Settings:
    """Live settings for tests that need no database (none is created)."""
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        **live_overrides(upstream),
    )


@pytest.fixture
def http_client(net_settings: Settings) -> Iterator[HttpClient]:
    with HttpClient.from_settings(net_settings) as client:
        yield client


@pytest.fixture
def cli(monkeypatch, tmp_path, database_url, upstream):
    """Run `paperwire ...` in-process with settings from PAPERWIRE_* variables."""
    from paperwire.cli import app

    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    for name, value in live_overrides(upstream).items():
        monkeypatch.setenv(f"PAPERWIRE_{name.upper()}", str(value))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def db_settings(database_url, tmp_path) -> Settings:
    """Settings for reading the database the CLI wrote to."""
    return load_settings(data_dir=tmp_path / "data", database_url=database_url, embedder="none")
