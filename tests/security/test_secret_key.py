"""The secret key: generated and kept owner-only when unset; weak or published keys refused."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from paperwire.config import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_an_unset_key_is_generated_once_and_kept_owner_only(tmp_path):
    first = load_settings(data_dir=tmp_path / "data", secret_key="")
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key.encode()) >= 32
    assert first.secret_key != "dev-insecure-secret-change-me"
    again = load_settings(data_dir=tmp_path / "data", secret_key="")
    assert again.secret_key == first.secret_key
    other = load_settings(data_dir=tmp_path / "elsewhere", secret_key="")
    assert other.secret_key != first.secret_key


def _example_placeholder() -> str:
    for line in (ROOT / "deploy" / "paperwire.env.example").read_text().splitlines():
        if line.startswith("PAPERWIRE_SECRET_KEY="):
            return line.split("=", 1)[1]
    raise AssertionError("the example env file has no PAPERWIRE_SECRET_KEY line")


@pytest.mark.parametrize("key", ["dev-insecure-secret-change-me", "short", "x" * 31,
                                 _example_placeholder()])
def test_weak_or_published_keys_are_refused_with_a_sentence(tmp_path, key):
    with pytest.raises(SettingsError) as raised:
        load_settings(data_dir=tmp_path, secret_key=key)
    message = str(raised.value)
    assert "validation error" not in message
    assert message.startswith("PAPERWIRE_SECRET_KEY is")
    assert "openssl rand -hex 32" in message


def test_the_cli_prints_the_whole_sentence(tmp_path):
    env = {**os.environ, "PAPERWIRE_DATA_DIR": str(tmp_path), "PAPERWIRE_SECRET_KEY": "short",
           "PAPERWIRE_ENVIRONMENT": "production"}
    done = subprocess.run([str(Path(sys.executable).parent / "paperwire"), "subscribers", "list"],
                          env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "PAPERWIRE_SECRET_KEY is 5 bytes long" in done.stderr
    assert "1 validation error" not in done.stderr + done.stdout


def test_forged_links_with_the_old_default_key_do_not_work(client, container):
    """Links signed with the old published default no longer open anyone's settings."""
    from paperwire.domain import signed_tokens
    from paperwire.services.subscriptions import Choices, add_subscriber

    victim, _ = add_subscriber(container.engine, "victim@example.org", Choices(), confirmed=True)
    forged = signed_tokens.make_token("dev-insecure-secret-change-me", "settings", victim.id,
                                      victim.email_key)
    page = client.get(f"/subscribe/settings/{forged}")
    assert page.status_code in (400, 403, 404)
    assert "victim@example.org" not in page.text


def test_an_api_token_cannot_create_tokens(container):
    from paperwire.services.accounts.api_tokens import create_api_token
    from tests.accounts.conftest import csrf_of, login, make_user, new_client

    user = make_user(container, "owner")
    raw = create_api_token(container.engine, user.id, "script")
    client = new_client(container)
    refused = client.post("/api/tokens", json={"name": "more"},
                          headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 403 and "session" in refused.json()["detail"]
    assert login(client, "owner").status_code == 303
    token = csrf_of(client.get("/settings").text)
    made = client.post("/api/tokens", json={"name": "more"}, headers={"X-CSRF-Token": token})
    assert made.status_code == 201
