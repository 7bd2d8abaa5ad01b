"""Accounts: form errors keep input, enumeration-safe answers, lockout, limits, tokens, links."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from paperwire.config import load_settings
from paperwire.services import accounts
from paperwire.store.accounts_tables import one_time_tokens, users
from paperwire.wiring import build_container
from tests.accounts.conftest import PASSWORD, csrf_of, login, make_user, new_client, outbox_links


def _signup(client, **fields):
    token = csrf_of(client.get("/signup").text)
    return client.post("/signup", data=fields | {"csrf_token": token})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"username": "ab", "email": "ok@example.org", "password": PASSWORD},
            "Usernames are 3 to 30",
        ),
        ({"username": "admin", "email": "ok@example.org", "password": PASSWORD}, "is reserved"),
        (
            {"username": "newbie", "email": "not-an-email", "password": PASSWORD},
            "Enter an email address",
        ),
        ({"username": "newbie", "email": "ok@example.org", "password": "short"}, "at least 8"),
        ({"username": "ALICE", "email": "ok@example.org", "password": PASSWORD}, "is taken"),
    ],
)
def test_signup_errors_are_specific_and_keep_input(client, container, fields, message):
    make_user(container, "alice")
    response = _signup(client, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert f'value="{fields["username"]}"' in response.text
    assert f'value="{fields["email"]}"' in response.text
    assert PASSWORD not in response.text  # passwords are never echoed
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(users)) == 1


def test_wrong_password_and_unknown_account_answer_the_same(client, container):
    make_user(container, "alice")
    wrong = login(client, "alice", "wrong password!")
    unknown = login(client, "nobody-here", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username/email or password." in wrong.text
    assert 'value="alice"' in wrong.text  # keeps what was typed

    def strip(html: str, typed: str) -> str:
        return html.replace(typed, "").replace(csrf_of(html), "")

    assert strip(wrong.text, "alice") == strip(unknown.text, "nobody-here")


def test_password_reset_answers_the_same_and_link_is_single_use(client, container, settings):
    make_user(container, "alice")
    token = csrf_of(client.get("/forgot-password").text)
    known = client.post(
        "/forgot-password", data={"email": "alice@example.org", "csrf_token": token}
    )
    unknown = client.post(
        "/forgot-password", data={"email": "ghost@example.org", "csrf_token": token}
    )
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    [link] = outbox_links(container, "/reset-password")
    raw = link.split("token=")[1]
    form = client.get(f"/reset-password?token={raw}")
    assert form.status_code == 200
    short = client.post(
        "/reset-password", data={"token": raw, "password": "x", "csrf_token": token}
    )
    assert short.status_code == 400 and "at least 8" in short.text
    done = client.post(
        "/reset-password", data={"token": raw, "password": "a new password", "csrf_token": token}
    )
    assert "Your new password is set" in done.text
    reuse = client.post(
        "/reset-password", data={"token": raw, "password": "another one!", "csrf_token": token}
    )
    assert reuse.status_code == 400 and "already used or expired" in reuse.text
    assert login(client, "alice", "a new password").status_code == 303


def test_expired_link_is_refused(client, container, settings):
    user = make_user(container, "alice", verified=False)
    raw = accounts.issue_one_time_token(container.engine, settings, user.id, accounts.VERIFY_EMAIL)
    with container.engine.begin() as conn:
        conn.execute(update(one_time_tokens).values(expires_at=datetime.now(UTC) - timedelta(1)))
    assert client.get(f"/verify-email?token={raw}").status_code == 400
    with pytest.raises(accounts.AccountError):
        accounts.verify_email(container.engine, raw)


def test_magic_link_logs_in_once(client, container, settings):
    make_user(container, "alice")
    token = csrf_of(client.get("/login").text)
    client.post("/login/email-link", data={"email": "ALICE@example.org", "csrf_token": token})
    [link] = outbox_links(container, "/login/magic")
    raw = link.split("token=")[1]
    page = client.get(f"/login/magic?token={raw}")
    assert page.status_code == 200 and "alice" in page.text
    assert client.get("/api/me").status_code == 401  # the GET changed nothing
    done = client.post(
        "/login/magic",
        data={"token": raw, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get("/api/me").json()["username"] == "alice"
    other = new_client(container)
    other_token = csrf_of(other.get("/login").text)
    again = other.post("/login/magic", data={"token": raw, "csrf_token": other_token})
    assert again.status_code == 400


def _locked_for(response, base_s: int, since: float) -> bool:
    """A lockout answer whose Retry-After is the base wait, less the seconds gone by since
    the last failure (password hashing can take seconds on a loaded machine)."""
    elapsed = math.ceil(time.monotonic() - since)
    retry_after = int(response.headers["Retry-After"])
    return response.status_code == 429 and base_s - elapsed <= retry_after <= base_s


def test_login_lockout_with_backoff(client, container, settings):
    make_user(container, "alice")
    for _ in range(settings.login_lockout_failures - 1):
        assert login(client, "alice", "wrong password!").status_code == 401
    last_failure = time.monotonic()
    assert login(client, "alice", "wrong password!").status_code == 401
    locked = login(client, "alice", PASSWORD)  # even the right password waits
    assert _locked_for(locked, settings.login_lockout_base_s, last_failure)
    assert "Too many failed logins" in locked.text
    # An unknown name locks the same way (no enumeration through the lock).
    for _ in range(settings.login_lockout_failures - 1):
        login(client, "ghost", "wrong password!")
    last_failure = time.monotonic()
    login(client, "ghost", "wrong password!")
    ghost = login(client, "ghost", "wrong password!")
    assert _locked_for(ghost, settings.login_lockout_base_s, last_failure)


def test_lockout_doubles_and_a_success_resets_it(container, settings):
    from paperwire.domain.rate_limits import lockout_seconds

    assert [lockout_seconds(n, threshold=5, base_s=30, max_s=3600) for n in (4, 5, 6, 7, 20)] == [
        0,
        30,
        60,
        120,
        3600,
    ]
    make_user(container, "alice")
    quick = settings.model_copy(update={"login_lockout_base_s": 0})
    for _ in range(7):
        with pytest.raises(accounts.AccountError):
            accounts.authenticate(
                container.engine, quick, login="alice", password="nope nope", ip=None
            )
    user = accounts.authenticate(container.engine, quick, login="alice", password=PASSWORD, ip=None)
    assert user.username == "alice"
    assert (
        accounts.login_lockout_remaining(container.engine, settings, accounts.lockout_key(user.id))
        == 0
    )


@pytest.fixture
def limited_client(tmp_path, database_url, arxiv_stub):
    settings = load_settings(
        data_dir=tmp_path / "limited",
        database_url=database_url,
        embedder="none",
        arxiv_api_url=arxiv_stub.url,
        http_retries=0,
        rate_limits_enabled=True,
        rate_limit_login="3/60",
        rate_limit_signup="2/3600",
        rate_limit_api="5/60",
        rate_limit_comment="2/600",
    )
    container = build_container(settings)
    container.prepare_database()
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    with TestClient(create_app(container)) as client:
        yield client, container
    container.close()


def test_rate_limits_answer_429_with_retry_after(limited_client):
    client, container = limited_client
    statuses = [login(client, "x", "y").status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    statuses = [
        _signup(
            client, username=f"user{i}", email=f"u{i}@example.org", password=PASSWORD
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    api = [client.get("/api/me") for _ in range(6)]
    assert [r.status_code for r in api] == [401] * 5 + [429]
    assert 1 <= int(api[-1].headers["Retry-After"]) <= 60


def test_rate_limits_count_per_account(limited_client):
    client, container = limited_client
    from tests.accounts.conftest import add_paper

    add_paper(container)
    alice = make_user(container, "alice")
    token = accounts.create_api_token(container.engine, alice.id, "t")
    headers = {"Authorization": f"Bearer {token}"}
    codes = [
        client.post(
            "/api/papers/2506.11924/comments", json={"body": f"c{i}"}, headers=headers
        ).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]


def test_api_tokens_create_use_revoke(client, container):
    make_user(container, "alice")
    login(client, "alice")
    token = csrf_of(client.get("/settings").text)
    empty = client.post("/settings/tokens", data={"name": "", "csrf_token": token})
    assert empty.status_code == 400 and "Give the token a name" in empty.text
    created = client.post("/settings/tokens", data={"name": "laptop", "csrf_token": token})
    assert created.status_code == 201
    raw = created.text.split('id="new-token">')[1].split("<")[0]
    assert raw.startswith("pw_")
    script = new_client(container)
    me = script.get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.json()["username"] == "alice"
    listed = client.get("/settings", params={"format": "json"}).json()["tokens"]
    assert [t["name"] for t in listed] == ["laptop"] and raw not in str(listed)
    with container.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(users)).scalar()
    assert stored == 1
    client.post(f"/settings/tokens/{listed[0]['id']}/revoke", data={"csrf_token": token})
    refused = script.get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401
    assert script.get("/api/me", headers={"Authorization": "Bearer pw_made-up"}).status_code == 401


def test_token_api_for_scripts(client, container):
    user = make_user(container, "alice")
    raw = accounts.create_api_token(container.engine, user.id, "first")
    headers = {"Authorization": f"Bearer {raw}"}
    # A token never mints tokens (issue 15): that takes a logged-in session.
    refused = client.post("/api/tokens", json={"name": "second"}, headers=headers)
    assert refused.status_code == 403
    accounts.create_api_token(container.engine, user.id, "second")
    tokens = accounts.list_api_tokens(container.engine, user.id)
    assert client.delete(f"/api/tokens/{tokens[1].id}", headers=headers).status_code == 200
    assert client.delete(f"/api/tokens/{tokens[1].id}", headers=headers).status_code == 404


def test_secure_cookie_over_https(container):
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    make_user(container, "alice")
    with TestClient(create_app(container), base_url="https://testserver") as client:
        response = login(client, "alice")
    assert "secure" in response.headers["set-cookie"].lower()


def test_suspended_user_cannot_log_in_and_loses_sessions(client, container):
    user = make_user(container, "alice")
    login(client, "alice")
    accounts.set_suspended(container.engine, user.id, True)
    assert client.get("/api/me").status_code == 401
    refused = login(client, "alice")
    assert refused.status_code == 400 and "suspended" in refused.text


def test_cli_user_create_and_list(tmp_path, database_url, monkeypatch):
    from typer.testing import CliRunner

    from paperwire.cli import app

    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "cli"))
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "user",
            "create",
            "root-admin",
            "--email",
            "r@example.org",
            "--password",
            PASSWORD,
            "--admin",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "created admin root-admin" in made.output
    dup = runner.invoke(
        app, ["user", "create", "Root-Admin", "--email", "z@example.org", "--password", PASSWORD]
    )
    assert dup.exit_code == 1 and "is taken" in dup.output
    listed = runner.invoke(app, ["user", "list"])
    assert "root-admin\tr@example.org\tadmin\tverified" in listed.output


def test_failed_sign_ups_do_not_use_up_the_account_limit(limited_client):
    client, container = limited_client
    make_user(container, "taken")
    failures = [
        {"username": "taken", "email": "new1@example.org", "password": PASSWORD},
        {"username": "bad name!", "email": "new2@example.org", "password": PASSWORD},
        {"username": "fresh2", "email": "new3@example.org", "password": "short"},
    ]
    assert [_signup(client, **f).status_code for f in failures] == [400] * 3
    # The limit (2/3600 here) counts accounts created, not attempts. A taken address
    # answers like a created account, so it counts too (or the limit would tell them apart).
    ok = [_signup(client, username="fresh1", email="taken@example.org",
                  password=PASSWORD).status_code]
    ok += [_signup(client, username=f"real{i}", email=f"real{i}@example.org",
                   password=PASSWORD).status_code for i in range(2)]
    assert ok == [201, 201, 429]


def test_sign_up_attempts_have_their_own_looser_limit(tmp_path, database_url, arxiv_stub):
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    settings = load_settings(data_dir=tmp_path / "a", database_url=database_url, embedder="none",
                             arxiv_api_url=arxiv_stub.url, rate_limits_enabled=True,
                             rate_limit_signup="5/3600", rate_limit_signup_attempts="3/3600")
    container = build_container(settings)
    container.prepare_database()
    try:
        with TestClient(create_app(container)) as client:
            codes = [_signup(client, username="x", email="bad", password="p").status_code
                     for _ in range(4)]
        assert codes == [400, 400, 400, 429]
    finally:
        container.close()
