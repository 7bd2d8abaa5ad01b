"""Fault tests with real processes: SIGKILL mid-run, two senders at once, a dead server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from email.utils import parseaddr

import pytest

from paperwire.services.digests import DigestRunFailed, send_digests
from paperwire.services.subscriptions import Choices, add_subscriber
from paperwire.store.deliveries import delivery_counts
from tests.digests.conftest import DIGEST_DAY, seed_papers

SENDER = [sys.executable, "-c", "from paperwire.cli import main; main()",
          "digest", "send", "--date", DIGEST_DAY.isoformat()]


def sender_env(settings, smtp_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_SMTP_URL": smtp_url,
        "PAPERWIRE_EMBEDDER": "none",
        "PAPERWIRE_BASE_URL": settings.base_url,
        "PAPERWIRE_MAIL_FROM": settings.mail_from,
        "PAPERWIRE_SMTP_RETRIES": "0",
        "PAPERWIRE_SMTP_TIMEOUT_S": "5",
    })
    return env


def add_confirmed(engine, count: int) -> set[str]:
    addresses = {f"reader{i:03d}@example.org" for i in range(count)}
    for address in sorted(addresses):
        add_subscriber(engine, address, Choices(paper_count=3), confirmed=True)
    return addresses


def received(sink) -> Counter:
    return Counter(parseaddr(m["To"])[1] for m in sink.messages)


def test_killed_sender_resumes_without_duplicates_or_gaps(smtp_container, smtp_sink):
    engine, settings = smtp_container.engine, smtp_container.settings
    seed_papers(engine, count=5)
    addresses = add_confirmed(engine, 30)
    env = sender_env(settings, smtp_sink.url)
    first = subprocess.Popen(SENDER + ["--batch-size", "5"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    smtp_sink.behaviour.kill_pid, smtp_sink.behaviour.kill_at = first.pid, 12
    out, _ = first.communicate(timeout=120)
    assert first.returncode == -9, out.decode()
    assert len(smtp_sink.messages) == 11  # killed while handing over the 12th
    smtp_sink.behaviour.kill_pid = None

    rerun = subprocess.run(SENDER + ["--batch-size", "5"], env=env, capture_output=True,
                           timeout=120, text=True)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "19 sent" in rerun.stdout
    counts = received(smtp_sink)
    assert set(counts) == addresses  # 0 missing
    assert max(counts.values()) == 1  # 0 duplicates
    with engine.connect() as conn:
        assert delivery_counts(conn, DIGEST_DAY) == {"sent": 30}


def test_two_concurrent_senders_never_send_twice(smtp_container, smtp_sink):
    engine, settings = smtp_container.engine, smtp_container.settings
    seed_papers(engine, count=5)
    addresses = add_confirmed(engine, 60)
    smtp_sink.behaviour.delay_s = 0.01  # keep both senders busy at the same time
    env = sender_env(settings, smtp_sink.url)
    senders = [subprocess.Popen(SENDER + ["--batch-size", "3"], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for _ in range(2)]
    outputs = [proc.communicate(timeout=180)[0] for proc in senders]
    assert [proc.returncode for proc in senders] == [0, 0], outputs
    counts = received(smtp_sink)
    assert set(counts) == addresses
    assert max(counts.values()) == 1
    with engine.connect() as conn:
        assert delivery_counts(conn, DIGEST_DAY) == {"sent": 60}


@pytest.mark.parametrize("fault", ["dead", "slow"])
def test_dead_or_slow_server_fails_cleanly_and_resumes(smtp_container, smtp_sink, tmp_path,
                                                       fault):
    from tests.digests.conftest import mail_settings
    from tests.digests.smtp_sink import free_port

    engine = smtp_container.engine
    seed_papers(engine, count=5)
    addresses = add_confirmed(engine, 4)
    if fault == "dead":
        url = f"smtp://127.0.0.1:{free_port()}?starttls=off"  # nobody listens there
    else:
        smtp_sink.behaviour.delay_s, smtp_sink.behaviour.stall = 3.0, True
        url = smtp_sink.url.replace("timeout=5", "timeout=0.5")
    broken = mail_settings(tmp_path, smtp_container.settings.database_url, url,
                           smtp_retries=1)
    from paperwire.mail.transport import build_mailer

    mailer = build_mailer(url, broken.outbox_dir, timeout_s=0.5, retries=1, backoff_s=0.01)
    with pytest.raises(DigestRunFailed) as failed:
        send_digests(engine, mailer, broken, DIGEST_DAY)
    mailer.close()
    assert "Run `paperwire digest send` again" in str(failed.value)
    with engine.connect() as conn:
        assert delivery_counts(conn, DIGEST_DAY) == {"pending": 4}  # all handed back
    smtp_sink.behaviour.delay_s, smtp_sink.behaviour.stall = 0.0, False
    report = send_digests(engine, smtp_container.mailer, smtp_container.settings, DIGEST_DAY)
    assert report.sent == 4
    assert Counter(received(smtp_sink)) == Counter({a: 1 for a in addresses})
