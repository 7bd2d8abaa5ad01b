"""The login lockout checks and records in one locked transaction: parallel wrong
passwords cannot all pass the check."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from paperwire.services import accounts
from tests.accounts.conftest import PASSWORD, make_user

GUESSES = 16


@pytest.mark.parametrize("known", [True, False], ids=["existing account", "unknown name"])
def test_parallel_wrong_passwords_stop_at_the_threshold(container, known):
    make_user(container, "alice")
    login = "alice" if known else "nobody-here"
    threshold = container.settings.login_lockout_failures
    start = threading.Barrier(GUESSES)

    def guess(i: int) -> str:
        start.wait(timeout=30)
        try:
            accounts.authenticate(container.engine, container.settings, login=login,
                                  password=f"wrong guess {i}", ip="203.0.113.9")
        except accounts.LockedOut:
            return "locked"
        except accounts.AccountError as exc:
            assert exc.message == accounts.LOGIN_FAILED
            return "checked"
        return "logged in"

    with ThreadPoolExecutor(GUESSES) as pool:
        outcomes = list(pool.map(guess, range(GUESSES)))
    # Exactly `threshold` guesses got their password checked; every other one was refused
    # by the lockout before any password check.
    assert outcomes.count("checked") == threshold, outcomes
    assert outcomes.count("locked") == GUESSES - threshold
    # Even the right password now waits.
    with pytest.raises(accounts.LockedOut):
        accounts.authenticate(container.engine, container.settings, login=login,
                              password=PASSWORD, ip="203.0.113.9")


def test_a_right_password_still_ends_the_failure_run(container):
    make_user(container, "alice")
    for i in range(container.settings.login_lockout_failures - 1):
        with pytest.raises(accounts.AccountError):
            accounts.authenticate(container.engine, container.settings, login="alice",
                                  password=f"wrong {i}", ip=None)
    user = accounts.authenticate(container.engine, container.settings, login="alice",
                                 password=PASSWORD, ip=None)
    assert user.username == "alice"
    assert accounts.login_lockout_remaining(
        container.engine, container.settings, accounts.lockout_key(user.id)) == 0
    # The run starts again from zero: threshold-1 more failures do not lock.
    for i in range(container.settings.login_lockout_failures - 1):
        with pytest.raises(accounts.AccountError) as caught:
            accounts.authenticate(container.engine, container.settings, login="alice",
                                  password=f"again {i}", ip=None)
        assert not isinstance(caught.value, accounts.LockedOut)
