"""API tokens: lastUsedAt is written (at most once a minute), tokens may expire, expired
tokens are refused, and a password reset revokes every token of the account."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from typer.testing import CliRunner

from paperwire.services import accounts
from paperwire.services.accounts.one_time_tokens import RESET_PASSWORD, issue_one_time_token
from paperwire.store.accounts_tables import api_tokens
from paperwire.store.db import aware_utc, utcnow
from tests.accounts.conftest import csrf_of, login, make_user, new_client


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _token_row(container, raw: str):
    with container.engine.connect() as conn:
        return conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == accounts.secret_hash(raw))
        ).one()


def _set(container, raw: str, **values) -> None:
    with container.engine.begin() as conn:
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.token_hash == accounts.secret_hash(raw))
            .values(**values)
        )


def test_last_used_is_written_at_most_once_a_minute(container):
    user = make_user(container, "alice")
    raw = accounts.create_api_token(container.engine, user.id, "script")
    api = new_client(container)
    assert _token_row(container, raw).last_used_at is None

    assert api.get("/api/me", headers=_bearer(raw)).status_code == 200
    first = _token_row(container, raw).last_used_at
    assert first is not None
    # Served by the settings JSON (a session, so that read does not count as a use).
    browser = new_client(container)
    login(browser, "alice")
    served = browser.get("/settings?format=json").json()["tokens"][0]
    assert served["lastUsedAt"] is not None

    # Used again 30 s after the stored time: nothing is written.
    recent = utcnow() - timedelta(seconds=30)
    _set(container, raw, last_used_at=recent)
    api.get("/api/me", headers=_bearer(raw))
    assert aware_utc(_token_row(container, raw).last_used_at) == recent
    # Two minutes after: the time moves on.
    old = utcnow() - timedelta(seconds=120)
    _set(container, raw, last_used_at=old)
    api.get("/api/me", headers=_bearer(raw))
    assert aware_utc(_token_row(container, raw).last_used_at) > recent


def test_expiring_tokens_stop_working(container):
    user = make_user(container, "alice")
    forever = accounts.create_api_token(container.engine, user.id, "forever")
    week = accounts.create_api_token(container.engine, user.id, "week", expires_days=7)
    expires = aware_utc(_token_row(container, week).expires_at)
    assert timedelta(days=6, hours=23) < expires - utcnow() <= timedelta(days=7)
    assert _token_row(container, forever).expires_at is None
    api = new_client(container)
    assert api.get("/api/me", headers=_bearer(week)).status_code == 200

    _set(container, week, expires_at=utcnow() - timedelta(seconds=1))
    assert api.get("/api/me", headers=_bearer(week)).status_code == 401
    assert api.get("/api/me", headers=_bearer(forever)).status_code == 200
    # Expired tokens leave the list (and stop counting against the limit of 50).
    names = [t.name for t in accounts.list_api_tokens(container.engine, user.id)]
    assert names == ["forever"]


def test_expiry_from_the_settings_form_and_the_json_api(container):
    make_user(container, "alice")
    browser = new_client(container)
    login(browser, "alice")
    token = csrf_of(browser.get("/settings").text)
    bad = browser.post("/settings/tokens",
                       data={"name": "x", "expires_days": "soon", "csrf_token": token})
    assert bad.status_code == 400 and "number of days" in bad.text
    too_long = browser.post("/settings/tokens",
                            data={"name": "x", "expires_days": "99999", "csrf_token": token})
    assert too_long.status_code == 400 and "1 to 3650 days" in too_long.text
    made = browser.post("/settings/tokens",
                        data={"name": "month", "expires_days": "30", "csrf_token": token})
    assert made.status_code == 201
    api_made = browser.post("/api/tokens", json={"name": "day", "expiresDays": 1},
                            headers={"X-CSRF-Token": token})
    assert api_made.status_code == 201, api_made.text
    listed = {t["name"]: t for t in browser.get("/settings?format=json").json()["tokens"]}
    assert listed["month"]["expiresAt"] and listed["day"]["expiresAt"]
    assert listed["month"]["expiresAt"] > listed["day"]["expiresAt"]
    assert browser.post("/api/tokens", json={"name": "z", "expiresDays": 0},
                        headers={"X-CSRF-Token": token}).status_code == 422


def test_cli_token_with_expiry(container, monkeypatch, settings):
    from paperwire.cli import app

    for name, value in {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_EMBEDDER": "none",
    }.items():
        monkeypatch.setenv(name, value)
    make_user(container, "alice")
    out = CliRunner().invoke(app, ["user", "token", "alice", "--expires-days", "3"])
    assert out.exit_code == 0, out.output
    row = _token_row(container, out.output.strip())
    left = aware_utc(row.expires_at) - utcnow()
    assert timedelta(days=2, hours=23) < left <= timedelta(days=3)
    refused = CliRunner().invoke(app, ["user", "token", "alice", "--expires-days", "0"])
    assert refused.exit_code == 1 and "1 to 3650 days" in refused.output


def test_password_reset_revokes_api_tokens(container):
    user = make_user(container, "alice")
    raw = accounts.create_api_token(container.engine, user.id, "script")
    api = new_client(container)
    assert api.get("/api/me", headers=_bearer(raw)).status_code == 200
    reset = issue_one_time_token(container.engine, container.settings, user.id, RESET_PASSWORD)
    accounts.reset_password(container.engine, reset, "a brand new password")
    assert api.get("/api/me", headers=_bearer(raw)).status_code == 401
    assert accounts.list_api_tokens(container.engine, user.id) == []
