"""Bad input on the subscription pages: addresses, tokens, duplicates, header injection."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from paperwire.domain import signed_tokens
from paperwire.store.digest_tables import subscribers
from paperwire.store.subscribers import find_subscriber
from tests.digests.test_smtp_delivery import body, csrf_from, links_in, path_of

FORM = {"frequency": "daily", "paper_count": "10", "weekdays_only": "on", "topics": ""}


def count_subscribers(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(subscribers)).scalar_one()


@pytest.mark.parametrize("address", [
    "not-an-address", "two@@example.org", "nobody@localhost", "x@example.invalid",
    "spaces in@example.org", "a@b.org\r\nBcc: victim@example.org", "",
])
def test_bad_addresses_get_a_form_error(smtp_client, smtp_container, smtp_sink, address):
    data = FORM | {"email": address} | csrf_from(smtp_client)
    response = smtp_client.post("/subscribe", data=data)
    assert response.status_code == 422
    assert 'class="error-message form-error"' in response.text
    assert count_subscribers(smtp_container.engine) == 0
    assert smtp_sink.messages == []


def test_duplicate_subscription_resends_confirmation_with_one_row(smtp_client, smtp_container,
                                                                   smtp_sink):
    for address in ("dup@example.org", "DUP@example.org"):
        response = smtp_client.post("/subscribe",
                                    data=FORM | {"email": address} | csrf_from(smtp_client))
        assert response.status_code == 200
    assert count_subscribers(smtp_container.engine) == 1
    mails = smtp_sink.wait_for(2)
    assert len(mails) == 2 and all("Confirm" in m["Subject"] for m in mails)
    # Once confirmed, a third request mails the settings link instead.
    confirm_url = next(u for u in links_in(body(mails[1], "plain")) if "/confirm/" in u)
    assert smtp_client.post(path_of(confirm_url), data=csrf_from(smtp_client)).status_code == 200
    smtp_client.post("/subscribe",
                     data=FORM | {"email": "dup@example.org"} | csrf_from(smtp_client))
    third = smtp_sink.wait_for(3)[2]
    assert "settings" in third["Subject"]
    assert count_subscribers(smtp_container.engine) == 1


def test_topics_with_line_breaks_cannot_reach_headers(smtp_client, smtp_container, smtp_sink):
    # A textarea line break only separates topics; each stays a body-only value.
    response = smtp_client.post("/subscribe", data=FORM | {
        "email": "topics@example.org",
        "topics": "ai\r\nBcc: victim@example.org\r\nSubject: pwned",
    } | csrf_from(smtp_client))
    assert response.status_code == 200
    (mail,) = smtp_sink.wait_for(1)
    assert mail["Bcc"] is None and "pwned" not in mail["Subject"]
    assert [k.lower() for k in mail].count("subject") == 1
    from paperwire.domain.digest_topics import InvalidTopic, parse_topic
    from paperwire.mail.message import HeaderInjection, build_message

    with pytest.raises(InvalidTopic):
        parse_topic("speech\nBcc: x@example.org")
    for field in ("subject", "sender", "reply_to", "to"):
        values = {"sender": "a@example.org", "to": "b@example.org", "subject": "hi",
                  "reply_to": "c@example.org"}
        values[field] = values[field] + "\r\nBcc: victim@example.org"
        with pytest.raises(HeaderInjection):
            build_message(text="x", **values)


def _old_token(secret: str, purpose: str, subscriber_id: int, key: str, age_days: int) -> str:
    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_days * 86400

    serializer = URLSafeTimedSerializer(secret, salt=f"paperwire-subscriber-{purpose}",
                                        signer=OldSigner)
    return serializer.dumps({"s": subscriber_id, "e": key})


def test_expired_and_tampered_links_get_a_clear_page(smtp_client, smtp_container, smtp_sink):
    smtp_client.post("/subscribe", data=FORM | {"email": "late@example.org"}
                     | csrf_from(smtp_client))
    engine, settings = smtp_container.engine, smtp_container.settings
    with engine.connect() as conn:
        sub = find_subscriber(conn, "late@example.org")
    expired = _old_token(settings.secret_key, "confirm", sub.id, sub.email_key, age_days=8)
    page = smtp_client.get(f"/subscribe/confirm/{expired}")
    assert page.status_code == 400
    assert "This link has expired" in page.text and "Subscribe again" in page.text
    good = signed_tokens.make_token(settings.secret_key, "confirm", sub.id, sub.email_key)
    tampered = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")
    for path in (f"/subscribe/confirm/{tampered}", f"/subscribe/settings/{tampered}",
                 f"/unsubscribe/{tampered}", "/unsubscribe/garbage"):
        page = smtp_client.get(path)
        assert page.status_code == 400 and "This link is not valid" in page.text, path
    # A token for one purpose never opens another.
    page = smtp_client.get(f"/unsubscribe/{good}")
    assert page.status_code == 400
    refused = smtp_client.post(f"/unsubscribe/{tampered}")
    assert refused.status_code == 400
    with engine.connect() as conn:
        assert find_subscriber(conn, "late@example.org").confirmed_at is None
        assert find_subscriber(conn, "late@example.org").status == "active"


def test_digest_preview_is_hidden_from_visitors(smtp_client):
    assert smtp_client.get("/digest/preview?email=a@example.org").status_code == 404


def test_footer_and_subscribe_page_render(smtp_client):
    page = smtp_client.get("/subscribe")
    assert page.status_code == 200 and 'name="topics"' in page.text
    home = smtp_client.get("/")
    if home.status_code == 200:  # the web area's base template includes the footer form
        assert 'action="/subscribe"' in home.text


def test_digest_preview_for_admins(smtp_client, smtp_container):
    from paperwire.services import accounts
    from paperwire.services.subscriptions import Choices, add_subscriber
    from tests.digests.conftest import seed_papers

    engine = smtp_container.engine
    seed_papers(engine, count=3)
    add_subscriber(engine, "seen@example.org", Choices(), confirmed=True)
    admin = accounts.create_user(engine, username="chief", email="chief@example.org",
                                 password="correct horse battery", role="admin", verified=True)
    user = accounts.create_user(engine, username="joe", email="joe@example.org",
                                password="correct horse battery", role="user", verified=True)
    admin_auth = {"Authorization": f"Bearer {accounts.create_api_token(engine, admin.id, 't')}"}
    user_auth = {"Authorization": f"Bearer {accounts.create_api_token(engine, user.id, 't')}"}
    url = "/digest/preview?email=seen@example.org&day=2025-06-16"
    assert smtp_client.get(url, headers=user_auth).status_code == 404
    page = smtp_client.get(url, headers=admin_auth)
    assert page.status_code == 200 and "Paper 1 on" in page.text and "Trending" in page.text
    text = smtp_client.get(url + "&format=text", headers=admin_auth)
    assert text.text.startswith("Paperwire digest")
    missing = smtp_client.get("/digest/preview?email=nobody@example.org", headers=admin_auth)
    assert missing.status_code == 404 and "No subscriber" in missing.text
