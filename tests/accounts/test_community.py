"""Community: submissions (and their failures), comments, claims, organizations, moderation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from paperwire.services import accounts
from paperwire.store.tables import daily_entries, papers
from tests.accounts.conftest import add_paper, csrf_of, login, make_user, new_client


def _counts(container) -> tuple[int, int]:
    with container.engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(papers)),
            conn.scalar(select(func.count()).select_from(daily_entries)),
        )


def _logged_in(container, username="alice", role="user"):
    client = new_client(container)
    make_user(container, username, role=role)
    login(client, username)
    return client, csrf_of(client.get("/settings").text)


def test_failed_submissions_create_nothing_and_say_why(container, arxiv_stub):
    client, token = _logged_in(container)
    for typed, message in {"not an id": "is not an arXiv id", "": "Enter an arXiv id"}.items():
        response = client.post("/submit", data={"arxiv_id": typed, "csrf_token": token})
        assert response.status_code == 400, (typed, response.status_code)
        assert message in response.text, typed
        assert f'value="{typed}"' in response.text
    # Papers that are not stored are fetched by a queued job; its page says how it went.
    arxiv_stub.add("2511.00002", "Old Paper", published=datetime.now(UTC) - timedelta(days=40))
    arxiv_stub.failing.add("2511.00003")
    cases = {
        "2511.09999": ("failed", "arXiv has no paper 2511.09999"),
        "2511.00003": ("pending", "arXiv did not answer"),  # tried again later
        "2511.00002": ("failed", "only papers from the last 14 days"),
    }
    queued = {}
    for typed in cases:
        response = client.post("/submit", data={"arxiv_id": typed, "csrf_token": token},
                               follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/submit/")
        queued[typed] = response.headers["location"]
    assert arxiv_stub.requests == 0  # the requests answered without asking arXiv
    container.jobs.drain()
    for typed, (state, message) in cases.items():
        status = client.get(queued[typed] + "?format=json").json()
        assert (status["status"], status["id"]) == (state, typed)
        assert message in status["reason"], typed
        html = client.get(queued[typed])
        assert html.status_code == 200 and message in html.text
        assert ('http-equiv="refresh"' in html.text) == (state == "pending")
    assert _counts(container) == (0, 0)


def test_queued_submission_is_added_and_only_its_submitter_sees_it(container, arxiv_stub):
    client, token = _logged_in(container)
    arxiv_stub.add("2511.00001", "Fresh Results on Widgets", ["Bob Builder"])
    response = client.post("/submit", data={"arxiv_id": "2511.00001", "csrf_token": token},
                           follow_redirects=False)
    location = response.headers["location"]
    assert client.get(location + "?format=json").json()["status"] == "pending"
    assert _counts(container) == (0, 0)
    container.jobs.drain()
    done = client.get(location + "?format=json").json()
    assert done["status"] == "added" and done["url"] == "/papers/2511.00001"
    assert client.get(location, follow_redirects=False).headers["location"] == "/papers/2511.00001"
    assert _counts(container) == (1, 1)
    other, _ = _logged_in(container, "mallory")
    assert other.get(location + "?format=json").status_code == 404
    assert new_client(container).get(location + "?format=json").status_code == 401
    assert client.get("/submit/999999?format=json").status_code == 404
    # The API answers 202 with where to look, then the same outcome.
    arxiv_stub.add("2511.00004", "Another One")
    api = client.post("/api/papers/index", json={"arxivId": "2511.00004"},
                      headers={"X-CSRF-Token": token})
    assert api.status_code == 202 and api.json()["status"] == "pending"
    container.jobs.drain()
    assert client.get(api.json()["statusUrl"]).json()["status"] == "added"


def test_api_index_uses_stored_metadata_and_refuses_duplicates(container, arxiv_stub):
    user = make_user(container, "alice")
    add_paper(container, "2506.11924")
    raw = accounts.create_api_token(container.engine, user.id, "t")
    api = new_client(container)
    headers = {"Authorization": f"Bearer {raw}"}
    first = api.post("/api/papers/index", json={"arxivId": "2506.11924v2"}, headers=headers)
    assert first.status_code == 201 and first.json()["id"] == "2506.11924"
    assert arxiv_stub.requests == 0  # known paper: no arXiv call
    dup = api.post("/api/papers/index", json={"arxivId": "2506.11924"}, headers=headers)
    assert dup.status_code == 409 and "already on today's page" in dup.json()["detail"]
    assert api.post("/api/papers/index", json={"arxivId": "x"}).status_code in (401, 403)
    assert _counts(container) == (1, 1)


def test_unverified_users_cannot_write(container):
    add_paper(container)
    client = new_client(container)
    make_user(container, "newbie", verified=False)
    login(client, "newbie")
    token = csrf_of(client.get("/settings").text)
    response = client.post("/api/papers/2506.11924/upvote", headers={"X-CSRF-Token": token})
    assert response.status_code == 403 and "Confirm your email" in response.json()["detail"]


def test_upvote_form_toggles_without_javascript(container):
    add_paper(container)
    client, token = _logged_in(container)
    client.post("/papers/2506.11924/upvote", data={"action": "add", "csrf_token": token})
    html = client.get("/papers/2506.11924").text
    assert 'value="remove"' in html and "Upvoted" in html
    client.post("/papers/2506.11924/upvote", data={"action": "remove", "csrf_token": token})
    with container.engine.connect() as conn:
        assert conn.scalar(select(papers.c.local_upvotes)) == 0
    assert (
        client.post("/api/papers/9999.99999/upvote", headers={"X-CSRF-Token": token}).status_code
        == 404
    )


def test_threaded_comments_edit_delete_and_counts(container):
    add_paper(container)
    client, token = _logged_in(container)
    headers = {"X-CSRF-Token": token}
    root = client.post("/api/papers/2506.11924/comments", json={"body": "root"}, headers=headers)
    reply = client.post(
        "/api/papers/2506.11924/comments",
        json={"body": "reply", "parentId": root.json()["id"]},
        headers=headers,
    )
    assert reply.status_code == 201
    too_long = client.post(
        "/papers/2506.11924/comments", data={"body": "x" * 5001, "csrf_token": token}
    )
    assert too_long.status_code == 400 and "at most 5000 characters" in too_long.text
    assert "x" * 5001 in too_long.text  # the typed text is kept
    edited = client.patch(
        f"/api/comments/{root.json()['id']}", json={"body": "root *edited*"}, headers=headers
    )
    assert "<em>edited</em>" in edited.json()["html"] and edited.json()["editedAt"]
    client.delete(f"/api/comments/{root.json()['id']}", headers=headers)
    thread = client.get("/api/comments", params={"paperId": "2506.11924"}).json()["comments"]
    assert thread[0]["deleted"] is True and thread[0]["body"] == ""
    assert thread[0]["replies"][0]["body"] == "reply"
    with container.engine.connect() as conn:
        assert conn.scalar(select(papers.c.local_comments)) == 1


def test_claims_need_an_admin_and_can_be_requested_again_after_rejection(container):
    add_paper(container, authors=("Ada Lovelace", "Alan Turing"))
    client, token = _logged_in(container, "ada")
    not_author = client.post(
        "/papers/2506.11924/claim", data={"author_name": "Grace Hopper", "csrf_token": token}
    )
    assert not_author.status_code == 400 and "is not an author" in not_author.text
    client.post(
        "/papers/2506.11924/claim", data={"author_name": "ada lovelace", "csrf_token": token}
    )
    twice = client.post(
        "/papers/2506.11924/claim", data={"author_name": "Ada Lovelace", "csrf_token": token}
    )
    assert twice.status_code == 409
    moderator, m_token = _logged_in(container, "mod", role="moderator")
    assert (
        moderator.post("/moderation/claims/1/approve", data={"csrf_token": m_token}).status_code
        == 403
    )
    admin, a_token = _logged_in(container, "boss", role="admin")
    assert "Ada Lovelace" in admin.get("/moderation").text
    admin.post("/moderation/claims/1/reject", data={"csrf_token": a_token})
    again = client.post(
        "/papers/2506.11924/claim", data={"author_name": "Ada Lovelace", "csrf_token": token}
    )
    assert again.status_code == 200
    admin.post("/moderation/claims/2/approve", data={"csrf_token": a_token})
    claimed = client.get("/users/ada", params={"format": "json"}).json()["claimedPapers"]
    assert [(c["id"], c["authorName"]) for c in claimed] == [("2506.11924", "Ada Lovelace")]


def test_organizations_admins_create_members_link(container):
    add_paper(container)
    admin, a_token = _logged_in(container, "boss", role="admin")
    member, m_token = _logged_in(container, "ada")
    outsider, o_token = _logged_in(container, "eve")
    refused = outsider.post(
        "/community/organizations", data={"name": "evil", "csrf_token": o_token}
    )
    assert refused.status_code == 403
    bad = admin.post("/community/organizations", data={"name": "Bad Name!", "csrf_token": a_token})
    assert bad.status_code == 400 and 'value="Bad Name!"' in bad.text
    admin.post(
        "/community/organizations",
        data={"name": "turing-lab", "fullname": "Turing Lab", "csrf_token": a_token},
    )
    admin.post(
        "/community/organizations/turing-lab/members",
        data={"username": "ada", "csrf_token": a_token},
    )
    not_member = outsider.post(
        "/community/organizations/turing-lab/papers",
        data={"paper_id": "2506.11924", "csrf_token": o_token},
    )
    assert not_member.status_code == 403
    # A member links papers they are an approved author of.
    member.post(
        "/papers/2506.11924/claim", data={"author_name": "Ada Lovelace", "csrf_token": m_token}
    )
    admin.post("/moderation/claims/1/approve", data={"csrf_token": a_token})
    linked = member.post(
        "/community/organizations/turing-lab/papers",
        data={"paper_id": "arXiv:2506.11924", "csrf_token": m_token},
        follow_redirects=False,
    )
    assert linked.status_code == 303
    org = member.get("/community/organizations/turing-lab", params={"format": "json"}).json()
    assert org == {
        "name": "turing-lab",
        "fullname": "Turing Lab",
        "members": ["ada"],
        "papers": ["2506.11924"],
    }


def test_moderation_roles(container):
    add_paper(container)
    author, token = _logged_in(container, "ada")
    comment = author.post(
        "/api/papers/2506.11924/comments", json={"body": "spam"}, headers={"X-CSRF-Token": token}
    ).json()
    moderator, m_token = _logged_in(container, "mod", role="moderator")
    user, u_token = _logged_in(container, "eve")
    assert (
        user.post(
            "/moderation/papers/2506.11924/flags",
            data={"flag": "hidden", "value": "true", "csrf_token": u_token},
        ).status_code
        == 403
    )
    moderator.post(
        "/moderation/papers/2506.11924/flags",
        data={"flag": "featured", "value": "true", "csrf_token": m_token},
    )
    moderator.post(
        "/moderation/papers/2506.11924/flags",
        data={"flag": "hidden", "value": "true", "csrf_token": m_token},
    )
    with container.engine.connect() as conn:
        row = conn.execute(select(papers.c.hidden, papers.c.featured)).one()
    assert (row.hidden, row.featured) == (True, True)
    listed = moderator.get("/moderation", params={"format": "json"}).json()
    assert [p["id"] for p in listed["hiddenPapers"]] == ["2506.11924"]
    assert "Unhide" in moderator.get("/moderation").text
    deleted = moderator.post(
        f"/comments/{comment['id']}/delete", data={"csrf_token": m_token}, follow_redirects=False
    )
    assert deleted.status_code == 303  # back to the paper
    thread = moderator.get("/api/comments", params={"paperId": "2506.11924"}).json()
    assert thread["comments"] == []
    assert (
        moderator.post("/moderation/users/ada/suspend", data={"csrf_token": m_token}).status_code
        == 403
    )
    admin, a_token = _logged_in(container, "boss", role="admin")
    admin.post("/moderation/users/ada/suspend", data={"csrf_token": a_token})
    assert author.get("/api/me").status_code == 401


def test_get_requests_never_change_state(container):
    add_paper(container)
    client, _ = _logged_in(container)
    for path in (
        "/papers/2506.11924/upvote",
        "/comments/1/delete",
        "/logout",
        "/moderation/users/alice/suspend",
    ):
        assert client.get(path).status_code in (404, 405)
    assert client.get("/api/me").status_code == 200
    with container.engine.connect() as conn:
        assert conn.scalar(select(papers.c.local_upvotes)) == 0
