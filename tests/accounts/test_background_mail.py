"""Account mails are queued: a request answers while the mail server hangs, and a mail
that could not be sent is kept for a later try with the reason."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.config import load_settings
from paperwire.store.jobs import jobs
from paperwire.web.app import create_app
from paperwire.wiring import build_container
from tests.accounts.conftest import csrf_of, make_user


class HangingSmtpServer:
    """Accepts connections and never says a word until released."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.release = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.release.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                if self.release.is_set():
                    conn.close()
                    return
                self._conns.append(conn)
            self.connected.set()

    def close(self) -> None:
        """Drop every connection and refuse new ones."""
        with self._lock:
            self.release.set()
            for conn in self._conns:
                conn.close()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        self.sock.close()


@pytest.fixture
def hanging_smtp():
    server = HangingSmtpServer()
    try:
        yield server
    finally:
        server.close()


def test_login_link_requests_answer_while_the_mail_server_hangs(tmp_path, database_url,
                                                                hanging_smtp):
    settings = load_settings(
        data_dir=tmp_path / "data", database_url=database_url, embedder="none",
        rate_limits_enabled=False, base_url="http://testserver",
        smtp_url=f"smtp://127.0.0.1:{hanging_smtp.port}?starttls=off",
        smtp_timeout_s=60, smtp_retries=0,
    )
    container = build_container(settings)
    container.prepare_database()
    make_user(container, "alice")
    answered: list[int] = []

    def ask(client: TestClient) -> None:
        token = csrf_of(client.get("/login").text)
        response = client.post("/login/email-link",
                               data={"email": "alice@example.org", "csrf_token": token})
        answered.append(response.status_code)

    try:
        with TestClient(create_app(container)) as client:
            first = threading.Thread(target=ask, args=(client,))
            first.start()
            first.join(timeout=30)
            assert answered == [200]  # answered before the mail server said anything
            # The background runner is now stuck in the SMTP greeting...
            assert hanging_smtp.connected.wait(timeout=30)
            second = threading.Thread(target=ask, args=(client,))
            second.start()
            second.join(timeout=30)
            assert answered == [200, 200]  # ...and requests still answer at once
            hanging_smtp.close()  # the connection drops: a temporary failure
            container.jobs.drain()
        with container.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.status, jobs.c.attempts, jobs.c.last_error)
                                .order_by(jobs.c.id)).all()
        # Both mails wait for a later try (with a back-off), with the reason kept.
        assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
        assert all("SMTP" in r.last_error or "connect" in r.last_error for r in rows)
    finally:
        hanging_smtp.close()
        container.close()


def test_a_request_for_an_unknown_address_queues_the_same_job(client, container):
    """The look-up happens in the job, so the request does the same work either way."""
    make_user(container, "bob")
    for email in ("bob@example.org", "nobody@example.org"):
        token = csrf_of(client.get("/login").text)
        assert client.post("/login/email-link",
                           data={"email": email, "csrf_token": token}).status_code == 200
    with container.engine.connect() as conn:
        queued = conn.execute(select(jobs.c.queue, jobs.c.payload).order_by(jobs.c.id)).all()
    assert [(q, p["kind"], p["email"]) for q, p in queued] == [
        ("account-mail", "magic_link", "bob@example.org"),
        ("account-mail", "magic_link", "nobody@example.org"),
    ]
    container.jobs.drain()
    mails = list(container.settings.outbox_dir.glob("*.eml"))
    assert len(mails) == 1 and b"bob@example.org" in mails[0].read_bytes()
