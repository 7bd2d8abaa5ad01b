"""End to end over a real SMTP server: subscribe, confirm, digest, settings, unsubscribe."""

from __future__ import annotations

import re
from email.utils import parseaddr, parsedate_to_datetime
from urllib.parse import urlsplit

from paperwire.services.digests import send_digests
from paperwire.services.subscriptions import Choices, add_subscriber
from paperwire.store.deliveries import delivery_counts
from paperwire.store.subscribers import find_subscriber
from tests.digests.conftest import DIGEST_DAY, seed_papers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client, path: str = "/subscribe") -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    return {"csrf_token": match.group(1)} if match else {}


def links_in(text: str) -> list[str]:
    return re.findall(r"https://paperwire\.example\.org/\S+", text)


def path_of(url: str) -> str:
    return urlsplit(url).path


def body(message, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, f"no text/{kind} part"
    return part.get_content()


def test_subscribe_confirm_digest_settings_unsubscribe(smtp_client, smtp_container, smtp_sink):
    engine, settings = smtp_container.engine, smtp_container.settings
    seed_papers(engine)
    form = {"email": "Reader@Example.ORG", "frequency": "daily", "paper_count": "5",
            "weekdays_only": "on", "topics": "speech recognition\nauthor:Ada Lovelace"}
    response = smtp_client.post("/subscribe", data=form | csrf_from(smtp_client))
    assert response.status_code == 200, response.text
    assert "Check your inbox" in response.text

    # Nothing is sent before confirmation.
    report = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY)
    assert report.sent == 0
    (confirmation,) = smtp_sink.wait_for(1)
    assert parseaddr(confirmation["To"])[1] == "Reader@example.org"
    confirm_url = next(u for u in links_in(body(confirmation, "plain")) if "/confirm/" in u)
    page = smtp_client.get(path_of(confirm_url))
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    report = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY)
    assert report.sent == 0  # opening the link (as a mail scanner does) confirms nothing
    page = smtp_client.post(path_of(confirm_url), data=csrf_from(smtp_client))
    assert page.status_code == 200 and "subscribed" in page.text

    report = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY)
    assert report.sent == 1, report.summary_line()
    messages = smtp_sink.wait_for(2)
    digest = messages[1]
    # Every header the issue names.
    assert parseaddr(digest["From"])[1] == "digest@paperwire.example.org"
    assert parseaddr(digest["Reply-To"])[1] == "editors@paperwire.example.org"
    assert parseaddr(digest["To"])[1] == "Reader@example.org"
    assert re.fullmatch(r"<digest\.20250616\.\d+@paperwire\.example\.org>", digest["Message-ID"])
    assert parsedate_to_datetime(digest["Date"]).tzinfo is not None
    assert digest["Subject"].startswith("Paperwire digest, Mon 16 Jun 2025")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    targets = re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])
    assert targets[0].startswith("https://paperwire.example.org/unsubscribe/")
    assert targets[1].startswith("mailto:")
    assert digest.get_content_type() == "multipart/alternative"
    text, html = body(digest, "plain"), body(digest, "html")
    assert "== Trending ==" in text and "For your topic: speech recognition" in text
    assert 'style="' in html and "<style" not in html  # inline CSS only
    assert "https://paperwire.example.org/papers/2506.00001" in html
    assert text.count("https://paperwire.example.org/papers/") == 5

    # Settings link from the mail: change frequency and topics.
    settings_url = next(u for u in links_in(text) if "/subscribe/settings/" in u)
    page = smtp_client.get(path_of(settings_url))
    assert page.status_code == 200 and "Reader@example.org" in page.text
    saved = smtp_client.post(path_of(settings_url), data={
        "frequency": "weekly", "paper_count": "3", "topics": "category:cs.CL"
    } | csrf_from(smtp_client, path_of(settings_url)))
    assert saved.status_code == 200 and "Saved" in saved.text
    with engine.connect() as conn:
        sub = find_subscriber(conn, "reader@example.org")
    assert sub.frequency == "weekly" and sub.paper_count == 3
    assert [t.as_text() for t in sub.topics] == ["category:cs.CL"]

    # One-click unsubscribe exactly as a mail client does it (RFC 8058): no cookies, no token.
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    with TestClient(create_app(smtp_container)) as bare:
        done = bare.post(path_of(targets[0]), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "unsubscribed" in done.text
    with engine.connect() as conn:
        assert find_subscriber(conn, "reader@example.org").status == "unsubscribed"
    # The visible link shows a page with a button.
    page = smtp_client.get(path_of(targets[0]))
    assert page.status_code == 200 and "<button" in page.text


def test_rerun_sends_nothing_twice_and_papers_are_never_repeated(smtp_container, smtp_sink):
    engine, settings = smtp_container.engine, smtp_container.settings
    seed_papers(engine, count=6)
    add_subscriber(engine, "one@example.org", Choices(paper_count=4), confirmed=True)
    first = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY)
    again = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY)
    assert (first.sent, again.sent) == (1, 0)
    # The next day covers the same feed day again (no new papers): only unsent ones come.
    from datetime import timedelta

    later = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY + timedelta(days=1))
    assert later.sent == 0 and later.skipped == 1  # window (16th, 17th] has nothing new
    messages = smtp_sink.wait_for(1)
    assert len(messages) == 1
    with engine.connect() as conn:
        assert delivery_counts(conn, DIGEST_DAY) == {"sent": 1}


def test_temporary_failure_then_success_sends_one_mail(smtp_container, smtp_sink):
    engine, settings = smtp_container.engine, smtp_container.settings
    seed_papers(engine, count=3)
    add_subscriber(engine, "retry@example.org", Choices(), confirmed=True)
    smtp_sink.behaviour.temporary_failures = 2  # the mailer retries twice
    report = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY)
    assert report.sent == 1
    assert smtp_sink.handler.data_commands == 3
    assert len(smtp_sink.wait_for(1)) == 1


def test_permanent_failure_bounces_the_address(smtp_container, smtp_sink):
    engine, settings = smtp_container.engine, smtp_container.settings
    seed_papers(engine, count=3)
    add_subscriber(engine, "gone@example.org", Choices(), confirmed=True)
    add_subscriber(engine, "fine@example.org", Choices(), confirmed=True)
    smtp_sink.behaviour.refuse = {"gone@example.org"}
    report = send_digests(engine, smtp_container.mailer, settings, DIGEST_DAY)
    assert (report.sent, report.bounced) == (1, 1)
    with engine.connect() as conn:
        gone = find_subscriber(conn, "gone@example.org")
        assert (gone.status, gone.bounce_count) == ("bounced", 1)
        assert delivery_counts(conn, DIGEST_DAY) == {"sent": 1, "bounced": 1}
    assert [parseaddr(m["To"])[1] for m in smtp_sink.messages] == ["fine@example.org"]
