"""The command line (subscribers, digest send/preview, worker --once) and the outbox transport."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.mail.message import build_message
from paperwire.mail.transport import OutboxMailer
from tests.digests.conftest import DIGEST_DAY, seed_papers


@pytest.fixture
def cli_env(monkeypatch, settings):
    for name, value in {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_EMBEDDER": "none",
        "PAPERWIRE_SMTP_URL": "",
        "PAPERWIRE_BASE_URL": "https://paperwire.example.org",
    }.items():
        monkeypatch.setenv(name, value)
    return settings


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_subscribers_commands_and_outbox_digest(cli_env, container, tmp_path):
    seed_papers(container.engine, count=4)
    code, out = run("subscribers", "add", "Ann@Example.org", "--topic", "speech recognition",
                    "--topic", "author:Ada Lovelace", "--frequency", "daily", "--confirmed")
    assert code == 0 and "added Ann@example.org (confirmed, daily, 2 topics)" in out
    code, out = run("subscribers", "add", "bad@@example.org")
    assert code == 1 and "error:" in out
    code, out = run("subscribers", "add", "x@example.org", "--frequency", "hourly")
    assert code == 1 and "daily or weekly" in out
    code, out = run("subscribers", "list")
    assert code == 0 and "Ann@example.org\tactive\tconfirmed" in out
    assert "author:Ada Lovelace" in out

    code, out = run("digest", "preview", "--email", "ann@example.org", "--date", "2025-06-16",
                    "--out", str(tmp_path / "preview"))
    assert code == 0, out
    html = next((tmp_path / "preview").glob("*.html")).read_text()
    assert "Paper 1 on" in html
    assert next((tmp_path / "preview").glob("*.txt")).read_text().startswith("Paperwire digest")

    code, out = run("digest", "send", "--date", DIGEST_DAY.isoformat())
    assert code == 0, out
    assert f"mail transport: outbox folder {cli_env.outbox_dir}" in out and "1 sent" in out
    (eml,) = cli_env.outbox_dir.glob("*.eml")
    mail = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not list(cli_env.outbox_dir.glob(".tmp-*"))

    code, out = run("digest", "send", "--date", "16/06/2025")
    assert code == 1 and "YYYY-MM-DD" in out
    code, out = run("subscribers", "remove", "ANN@example.org")
    assert code == 0
    code, out = run("subscribers", "remove", "ann@example.org")
    assert code == 1 and "no subscriber" in out


def test_worker_once_runs_digests_even_when_ingest_fails(cli_env, container, monkeypatch):
    seed_papers(container.engine, count=3)
    run("subscribers", "add", "w@example.org", "--confirmed")
    # No network here: the ingest steps fail fast and are reported; digests still go out.
    monkeypatch.setenv("PAPERWIRE_HF_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PAPERWIRE_ARXIV_OAI_URL", "http://127.0.0.1:9/oai")
    monkeypatch.setenv("PAPERWIRE_HTTP_RETRIES", "0")
    code, out = run("worker", "--once", "--date", DIGEST_DAY.isoformat())
    assert code == 0, out
    assert "mail transport: outbox folder" in out
    assert "digests: digest 2025-06-16: 1 sent" in out
    # The day's digest step is claimed: a second worker run does nothing.
    code, out = run("worker", "--once", "--date", DIGEST_DAY.isoformat())
    assert "digests:" not in out
    assert len(list(cli_env.outbox_dir.glob("*.eml"))) == 1


def test_outbox_writes_whole_files(tmp_path):
    mailer = OutboxMailer(tmp_path / "outbox")
    for n in range(3):
        mailer.send(build_message(sender="a@example.org", to="b@example.org",
                                  subject=f"n{n}", text="hello"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 3 and all(f.suffix == ".eml" for f in files)
    assert "outbox folder" in mailer.describe()


def test_background_worker_starts_and_stops(container, capsys):
    from paperwire.worker import due_day, parse_timezone, parse_worker_time, start_background_worker

    stop = start_background_worker(container)
    stop()
    out = capsys.readouterr().out
    assert "mail transport: outbox folder" in out
    zone = parse_timezone("Europe/Paris")
    from datetime import UTC, datetime, time

    assert due_day(datetime(2025, 6, 16, 4, 30, tzinfo=UTC), time(7, 0), zone) is None  # 06:30
    assert due_day(datetime(2025, 6, 16, 5, 30, tzinfo=UTC), time(7, 0), zone) is not None
    assert str(due_day(datetime(2025, 6, 16, 5, 30, tzinfo=UTC), time(7, 0), parse_timezone(
        "Asia/Tokyo"))) == "2025-06-16"
    assert parse_worker_time("07:30") == time(7, 30)
    with pytest.raises(ValueError, match="HH:MM"):
        parse_worker_time("seven")
    with pytest.raises(ValueError, match="IANA"):
        parse_timezone("Mars/Olympus")


def test_subscribe_confirm_and_receive_in_the_outbox(client, container):
    import re
    from urllib.parse import urlsplit

    from paperwire.services.digests import send_digests

    seed_papers(container.engine, count=3)
    page = client.get("/subscribe")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"email": "new@example.org", "frequency": "daily", "paper_count": "5",
            "weekdays_only": "on", "topics": ""} | ({"csrf_token": token.group(1)} if token else {})
    assert client.post("/subscribe", data=data).status_code == 200
    outbox = container.settings.outbox_dir
    container.jobs.drain()  # the confirmation mail is sent in the background
    (eml,) = outbox.glob("*.eml")
    mail = message_from_bytes(eml.read_bytes(), policy=default_policy)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    confirm = re.search(r"\S+/subscribe/confirm/\S+", text).group(0)
    page = client.get(urlsplit(confirm).path)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post(urlsplit(confirm).path, data={"csrf_token": csrf}).status_code == 200
    report = send_digests(container.engine, container.mailer, container.settings, DIGEST_DAY)
    assert report.sent == 1 and len(list(outbox.glob("*.eml"))) == 2
