"""Accounts, API tokens and subscriptions change rows atomically: a second request that
runs entirely between the first one's read and its write (tests/security/interleave.py)
never makes the first one's decision wrong. Each test fails on code that reads, decides
in Python, then writes without a lock or a conditional UPDATE."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, select

from paperwire.domain import signed_tokens
from paperwire.services import accounts, subscriptions
from paperwire.services.subscriptions import CONFIRMATION_QUEUE, Choices
from paperwire.store import subscribers as subscriber_store
from paperwire.store.accounts_tables import api_tokens
from paperwire.store.jobs import jobs
from tests.accounts.conftest import PASSWORD, make_user
from tests.security.interleave import pause_after


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_two_token_creations_at_once_stay_within_the_cap(container):
    engine = container.engine
    alice = make_user(container, "alice")
    for n in range(49):
        accounts.create_api_token(engine, alice.id, f"t{n}")
    outcomes = []

    def create(name: str) -> str:
        try:
            accounts.create_api_token(engine, alice.id, name)
            return "created"
        except accounts.AccountError as exc:
            return exc.message

    with pause_after(engine, r"count\(\*\).*FROM api_tokens",
                     lambda: create("second")) as second:
        outcomes.append(create("first"))
    assert second["ran"]
    outcomes.append(second["result"])
    assert sorted(outcomes) == ["You have 50 active tokens; revoke one first.", "created"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(api_tokens)) == 50


def _confirmation_jobs(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(jobs)
                           .where(jobs.c.queue == CONFIRMATION_QUEUE))


def test_two_subscribe_requests_at_once_mail_one_confirmation(container):
    engine, settings = container.engine, container.settings
    settings.subscribe_resend_interval_s = 3600
    subscriptions.add_subscriber(engine, "reader@example.org", Choices(), confirmed=False)

    def subscribe() -> str:
        return subscriptions.subscribe(engine, container.jobs, settings, "reader@example.org",
                                       Choices(paper_count=5)).outcome

    with pause_after(engine, r"FROM subscribers\s+WHERE subscribers.email_key",
                     subscribe) as second:
        first = subscribe()
    assert second["ran"]
    assert sorted([first, second["result"]]) == ["resent", "throttled"]
    assert _confirmation_jobs(engine) == 1


def test_a_confirm_racing_an_unsubscribe_never_undoes_it(container):
    engine, settings = container.engine, container.settings
    subscriber, _ = subscriptions.add_subscriber(engine, "reader@example.org", Choices(),
                                                 confirmed=False)
    confirm = _token(subscriptions.confirm_link(settings, subscriber))
    unsubscribe = _token(subscriptions.unsubscribe_link(settings, subscriber))
    racing_unsubscribe = pause_after(
        engine, r"FROM subscribers\s+WHERE subscribers.id",
        lambda: subscriptions.unsubscribe(engine, settings, unsubscribe))
    # The link was revoked while it was being used: refusing it is right too.
    with racing_unsubscribe as second, contextlib.suppress(signed_tokens.TokenError):
        subscriptions.confirm(engine, settings, confirm)
    assert second["ran"] and "error" not in second
    with engine.connect() as conn:
        stored = subscriber_store.get_subscriber(conn, subscriber.id)
    assert stored.status == "unsubscribed"
    assert stored.token_version == subscriber.token_version + 1



def test_a_login_that_upgrades_the_hash_keeps_a_password_reset_made_meanwhile(container):
    """A login whose stored hash has old parameters re-hashes the password it checked;
    a reset committed between its read and that write must not be overwritten."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from paperwire.store.accounts_tables import users

    engine, settings = container.engine, container.settings
    alice = make_user(container, "alice")
    with engine.begin() as conn:  # a hash made with weaker, older parameters
        conn.execute(update(users).where(users.c.id == alice.id).values(
            password_hash=PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)))
    raw = accounts.issue_one_time_token(engine, settings, alice.id, accounts.RESET_PASSWORD)
    with pause_after(engine, r"FROM users\s+WHERE users.username_key",
                     lambda: accounts.reset_password(engine, raw, "a brand new password")
                     ) as second:
        accounts.authenticate(engine, settings, login="alice", password=PASSWORD, ip=None)
    assert second["ran"] and "error" not in second
    user = accounts.authenticate(engine, settings, login="alice",
                                 password="a brand new password", ip=None)
    assert user.id == alice.id
    with pytest.raises(accounts.AccountError):
        accounts.authenticate(engine, settings, login="alice", password=PASSWORD, ip=None)
