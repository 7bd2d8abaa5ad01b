"""The main flows end to end through the app: sign-up, verify, log in, submit, vote, comment."""

from __future__ import annotations

from sqlalchemy import select

from paperwire.store.tables import daily_entries, papers
from tests.accounts.conftest import PASSWORD, add_paper, csrf_of, login, make_user, outbox_links


def _outbox_links(container, path: str) -> list[str]:
    return outbox_links(container, path)


def test_signup_verify_login_logout(client, container, settings):
    token = csrf_of(client.get("/signup").text)
    response = client.post(
        "/signup",
        data={
            "username": "Grace",
            "email": "grace@example.org",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 201, response.text
    assert "Check your email" in response.text
    [link] = _outbox_links(container, "/verify-email")
    confirm = client.get(link.replace("http://testserver", ""))
    assert confirm.status_code == 200 and "Confirm my email address" in confirm.text
    raw = link.split("token=")[1]
    done = client.post("/verify-email", data={"token": raw, "csrf_token": csrf_of(confirm.text)})
    assert "your email address is confirmed" in done.text
    again = client.post("/verify-email", data={"token": raw, "csrf_token": csrf_of(confirm.text)})
    assert again.status_code == 400  # single use
    response = login(client, "grace")
    assert response.status_code == 303
    me = client.get("/api/me").json()
    assert me["username"] == "Grace" and me["emailVerified"] is True
    token = csrf_of(client.get("/settings").text)
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/api/me").status_code == 401


def test_submit_vote_comment(client, container, arxiv_stub):
    make_user(container, "bob")
    assert login(client, "bob").status_code == 303
    arxiv_stub.add("2511.00001", "Fresh Results on Widgets", ["Bob Builder"])
    token = csrf_of(client.get("/submit").text)
    response = client.post(
        "/submit",
        data={"arxiv_id": "https://arxiv.org/abs/2511.00001v1", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/submit/")  # fetched by a queued job
    container.jobs.drain()
    added = client.get(response.headers["location"], follow_redirects=False)
    assert added.headers["location"] == "/papers/2511.00001"
    with container.engine.connect() as conn:
        entry = conn.execute(select(daily_entries)).one()
    assert entry.paper_id == "2511.00001" and entry.submitted_by == "bob"
    assert entry.submitted_by_user_id is not None
    # Duplicate on the same day: refused with a message, form keeps the input.
    again = client.post("/submit", data={"arxiv_id": "2511.00001", "csrf_token": token})
    assert again.status_code == 409
    assert "already on today" in again.text and 'value="2511.00001"' in again.text
    # Upvote through the API with the CSRF header, twice: one vote.
    for _ in range(2):
        state = client.post("/api/papers/2511.00001/upvote", headers={"X-CSRF-Token": token})
        assert state.status_code == 200, state.text
    assert state.json() == {"paperId": "2511.00001", "upvoted": True, "upvotes": 1}
    comment = client.post(
        "/papers/2511.00001/comments",
        data={"body": "Nice **work** @bob", "csrf_token": token},
        follow_redirects=False,
    )
    assert comment.status_code == 303
    thread = client.get("/api/comments", params={"paperId": "2511.00001"}).json()
    assert '<a href="/users/bob" class="mention"' in thread["comments"][0]["html"]
    with container.engine.connect() as conn:
        row = conn.execute(select(papers.c.local_upvotes, papers.c.local_comments)).one()
    assert tuple(row) == (1, 1)
    profile = client.get("/users/bob", params={"format": "json"}).json()
    assert [p["id"] for p in profile["submittedPapers"]] == ["2511.00001"]
    assert [p["id"] for p in profile["upvotedPapers"]] == ["2511.00001"]


def test_paper_page_has_partials(client, container):
    add_paper(container)
    make_user(container, "carol")
    login(client, "carol")
    html = client.get("/papers/2506.11924").text
    assert "upvote-form" in html and "comment-form" in html and "Log out" in html
