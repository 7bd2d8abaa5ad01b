"""Mail links: confirming takes a POST, and old links never undo an unsubscribe."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import urlsplit

from paperwire.services import subscriptions
from paperwire.store.subscribers import find_subscriber, set_status

FORM = {"email": "reader@example.org", "frequency": "daily", "paper_count": "5",
        "weekdays_only": "on", "topics": ""}


def _csrf(client, path="/subscribe") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _links(container) -> list[str]:
    drain = getattr(getattr(container, "jobs", None), "drain", None)
    if drain is not None:
        drain()  # mails are sent in the background
    found = []
    for eml in sorted(container.settings.outbox_dir.glob("*.eml"),
                      key=lambda p: p.stat().st_mtime_ns):
        mail = message_from_bytes(eml.read_bytes(), policy=default_policy)
        text = mail.get_body(preferencelist=("plain",)).get_content()
        found += [urlsplit(u).path for u in re.findall(r"https?://\S+", text)]
    return found


def _wait_for_link(container, prefix: str, count: int = 1) -> list[str]:
    """The mailed links starting with `prefix`, once `count` of them arrived (mails go out
    through the background queue; a bounded wait on the condition, not a fixed sleep)."""
    import time

    deadline = time.monotonic() + 15
    while True:
        found = [p for p in _links(container) if p.startswith(prefix)]
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) >= count, f"no mail with a {prefix} link arrived"
            return found
        time.sleep(0.05)


def _subscriber(container):
    with container.engine.connect() as conn:
        return find_subscriber(conn, "reader@example.org")


def _subscribe_and_confirm(client, container) -> str:
    assert client.post("/subscribe", data=FORM | {"csrf_token": _csrf(client)}).status_code == 200
    confirm = _wait_for_link(container, "/subscribe/confirm/")[0]
    assert client.post(confirm, data={"csrf_token": _csrf(client)}).status_code == 200
    assert _subscriber(container).is_confirmed
    return confirm


def test_opening_the_confirm_link_confirms_nothing(client, container):
    assert client.post("/subscribe", data=FORM | {"csrf_token": _csrf(client)}).status_code == 200
    (confirm,) = _wait_for_link(container, "/subscribe/confirm/")
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    with TestClient(create_app(container)) as scanner:  # no cookies, like a link scanner
        page = scanner.get(confirm)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    assert 'method="post"' in page.text
    assert not _subscriber(container).is_confirmed
    assert client.post(confirm, data={"csrf_token": _csrf(client)}).status_code == 200
    assert _subscriber(container).is_confirmed


def test_an_old_confirm_link_never_undoes_an_unsubscribe(client, container):
    confirm = _subscribe_and_confirm(client, container)
    subscriber = _subscriber(container)
    unsubscribe = subscriptions.unsubscribe_link(container.settings, subscriber)
    old_settings = urlsplit(subscriptions.settings_link(container.settings, subscriber)).path
    assert client.post(urlsplit(unsubscribe).path).status_code == 200
    assert client.post(urlsplit(unsubscribe).path).status_code == 200  # a second click is fine
    assert _subscriber(container).status == "unsubscribed"

    again = client.post(confirm, data={"csrf_token": _csrf(client)})
    assert again.status_code == 400 and "not valid" in again.text
    assert _subscriber(container).status == "unsubscribed"
    # The settings link of before the unsubscribe is revoked too.
    assert client.get(old_settings).status_code == 400


def test_an_old_confirm_link_never_reactivates_a_bounced_address(client, container):
    confirm = _subscribe_and_confirm(client, container)
    with container.engine.begin() as conn:
        set_status(conn, _subscriber(container).id, status="bounced", bounce_count=3)
    client.post(confirm, data={"csrf_token": _csrf(client)})
    assert _subscriber(container).status == "bounced"


def test_log_out_these_links(client, container):
    _subscribe_and_confirm(client, container)
    subscriber = _subscriber(container)
    old = urlsplit(subscriptions.settings_link(container.settings, subscriber)).path
    old_unsubscribe = urlsplit(subscriptions.unsubscribe_link(container.settings,
                                                              subscriber)).path
    page = client.get(old)
    assert "Log out these links" in page.text
    done = client.post(old + "/revoke", data={"csrf_token": _csrf(client, old)})
    assert done.status_code == 200 and "no longer work" in done.text
    assert client.get(old).status_code == 400
    assert client.post(old_unsubscribe).status_code == 400
    assert _subscriber(container).status == "active"
    fresh = [p for p in _links(container) if p.startswith("/subscribe/settings/")][-1]
    assert fresh != old and client.get(fresh).status_code == 200
