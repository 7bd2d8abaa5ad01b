"""Sign-up and password reset answer the same, and do the same work, whether or not the
address has an account: a taken address gets the "check your mail" page of a new
account, and its owner a notice mail sent from the job queue."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperwire.services.accounts import users as users_module
from paperwire.services.accounts.mails import ACCOUNT_MAIL_QUEUE
from paperwire.store.accounts_tables import users
from paperwire.store.jobs import jobs
from paperwire.web.app import create_app
from paperwire.wiring import build_container
from tests.accounts.conftest import PASSWORD, csrf_of, login, make_user
from tests.digests.conftest import mail_settings
from tests.digests.smtp_sink import SmtpSink


@pytest.fixture
def mail_site(tmp_path, database_url):
    sink = SmtpSink().start()
    container = build_container(mail_settings(tmp_path, database_url, sink.url,
                                              base_url="http://testserver"))
    container.prepare_database()
    try:
        with TestClient(create_app(container)) as client:
            yield client, container, sink
    finally:
        container.close()
        sink.stop()


def _post(client, path: str, **fields):
    token = csrf_of(client.get(path).text)
    return client.post(path, data=fields | {"csrf_token": token})


def _page(response, *typed: str) -> str:
    """The page with what the visitor typed and the form token taken out."""
    text = response.text
    for value in typed:
        text = text.replace(value, "TYPED")
    for token in set(re.findall(r'name="csrf_token" value="([^"]+)"', text)):
        text = text.replace(token, "CSRF")
    return text


def test_a_taken_email_answers_like_a_new_one_and_its_owner_is_told(mail_site):
    client, container, sink = mail_site
    make_user(container, "alice", email="alice@example.org")
    taken = _post(client, "/signup", username="newbie", email="Alice@Example.org",
                  password="another good password")
    fresh = _post(client, "/signup", username="newcomer", email="fresh@example.org",
                  password="another good password")
    assert taken.status_code == fresh.status_code == 201
    assert _page(taken, "newbie", "Alice@Example.org") == _page(fresh, "newcomer",
                                                                "fresh@example.org")
    container.jobs.drain()
    by_recipient = {str(m["To"]): m for m in sink.handler.messages}
    assert set(by_recipient) == {"alice@example.org", "fresh@example.org"}
    notice = by_recipient["alice@example.org"]
    assert "tried to sign up" in str(notice["Subject"])
    body = notice.get_body(("plain",)).get_content()
    assert "http://testserver/login" in body and "http://testserver/forgot-password" in body
    assert "/verify-email" not in body
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(users)) == 2  # alice, newcomer
    assert login(client, "newbie", "another good password").status_code == 401
    assert login(client, "alice", PASSWORD).status_code == 303  # her password is unchanged


def test_a_taken_username_is_still_reported(mail_site):
    """Usernames are public (profile pages), so saying one is taken reveals nothing."""
    client, container, _ = mail_site
    make_user(container, "alice")
    response = _post(client, "/signup", username="ALICE", email="alice@example.org",
                     password=PASSWORD)
    assert response.status_code == 400 and "is taken" in response.text
    assert "email exists" not in response.text


class CountingHasher:
    def __init__(self, real) -> None:
        self.real, self.calls = real, 0

    def hash(self, password: str) -> str:
        self.calls += 1
        return self.real.hash(password)


def _account_mail_jobs(container) -> int:
    with container.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(jobs)
                           .where(jobs.c.queue == ACCOUNT_MAIL_QUEUE))


def test_both_sign_up_paths_do_the_same_work(mail_site, monkeypatch):
    """Timing parity by construction: a taken address and a new one each cost one
    password hash and one queued mail (sent in the background, not in the request)."""
    client, container, _ = mail_site
    make_user(container, "alice", email="alice@example.org")
    counting = CountingHasher(users_module.hasher)
    monkeypatch.setattr(users_module, "hasher", counting)
    work = []
    for username, email in (("newbie", "alice@example.org"), ("newcomer", "new@example.org")):
        hashes, queued = counting.calls, _account_mail_jobs(container)
        assert _post(client, "/signup", username=username, email=email,
                     password=PASSWORD).status_code == 201
        work.append((counting.calls - hashes, _account_mail_jobs(container) - queued))
    assert work == [(1, 1), (1, 1)]


def test_reset_for_a_known_and_an_unknown_address_does_the_same_work(mail_site):
    client, container, sink = mail_site
    make_user(container, "alice", email="alice@example.org")
    answers, queued = [], []
    for email in ("alice@example.org", "nobody@example.org"):
        before = _account_mail_jobs(container)
        answers.append(_post(client, "/forgot-password", email=email))
        queued.append(_account_mail_jobs(container) - before)
    assert answers[0].status_code == answers[1].status_code == 200
    assert _page(answers[0], "alice@example.org") == _page(answers[1], "nobody@example.org")
    assert queued == [1, 1]  # the look-up of the address happens in the background
    container.jobs.drain()
    assert [str(m["To"]) for m in sink.handler.messages] == ["alice@example.org"]
