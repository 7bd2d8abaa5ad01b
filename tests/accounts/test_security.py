"""Security tests from the issue, one behaviour each."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import httpx
from sqlalchemy import func, select, text

from paperwire.services import accounts
from paperwire.store.accounts_tables import comments, paper_votes, sessions, users
from paperwire.store.tables import daily_entries, papers
from paperwire.web.app import create_app
from tests.accounts.conftest import (
    PASSWORD,
    add_paper,
    csrf_of,
    login,
    make_user,
    new_client,
)
from tests.accounts.live_server import LiveServer


def test_form_post_without_csrf_token_is_rejected(client, container):
    make_user(container, "alice")
    login(client, "alice")
    add_paper(container)
    no_token = client.post("/papers/2506.11924/comments", data={"body": "hello"})
    assert no_token.status_code == 403
    wrong = client.post("/papers/2506.11924/comments", data={"body": "hi", "csrf_token": "x" * 64})
    assert wrong.status_code == 403
    api_no_header = client.post("/api/papers/2506.11924/upvote")
    assert api_no_header.status_code == 403
    anonymous_login = new_client(container).post(
        "/login", data={"login": "alice", "password": PASSWORD}
    )
    assert anonymous_login.status_code == 403
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(comments)) == 0
        assert conn.scalar(select(func.count()).select_from(paper_votes)) == 0


def test_multipart_forms_carry_the_token_too(client, container):
    make_user(container, "alice")
    login(client, "alice")
    add_paper(container)
    token = csrf_of(client.get("/settings").text)
    sent = client.post(
        "/papers/2506.11924/comments",
        files={"body": (None, "multipart hello"), "csrf_token": (None, token)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    missing = client.post("/papers/2506.11924/comments", files={"body": (None, "no token")})
    assert missing.status_code == 403


def test_bearer_requests_and_one_click_unsubscribe_skip_csrf(client, container):
    user = make_user(container, "alice")
    add_paper(container)
    token = accounts.create_api_token(container.engine, user.id, "script")
    voted = client.post(
        "/api/papers/2506.11924/upvote", headers={"Authorization": f"Bearer {token}"}
    )
    assert voted.status_code == 200 and voted.json()["upvoted"] is True
    # The unsubscribe route is another area's; CSRF must not be what answers.
    one_click = new_client(container).post(
        "/unsubscribe/not-a-token", data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 400  # a bad link, answered by the route itself
    assert "did not come from this site" not in one_click.text


def test_cross_user_edit_and_delete_are_refused(client, container):
    make_user(container, "alice")
    make_user(container, "mallory")
    add_paper(container)
    login(client, "alice")
    token = csrf_of(client.get("/settings").text)
    created = client.post(
        "/api/papers/2506.11924/comments", json={"body": "mine"}, headers={"X-CSRF-Token": token}
    )
    comment_id = created.json()["id"]
    mallory = new_client(container)
    login(mallory, "mallory")
    m_token = csrf_of(mallory.get("/settings").text)
    edit = mallory.patch(
        f"/api/comments/{comment_id}", json={"body": "pwned"}, headers={"X-CSRF-Token": m_token}
    )
    assert edit.status_code == 403
    form_edit = mallory.post(
        f"/comments/{comment_id}/edit", data={"body": "pwned", "csrf_token": m_token}
    )
    assert form_edit.status_code == 403
    delete = mallory.delete(f"/api/comments/{comment_id}", headers={"X-CSRF-Token": m_token})
    assert delete.status_code == 403
    form_delete = mallory.post(f"/comments/{comment_id}/delete", data={"csrf_token": m_token})
    assert form_delete.status_code == 403
    alice_token_id = accounts.list_api_tokens(container.engine, 1)
    accounts.create_api_token(container.engine, 1, "alice's")
    alice_token_id = accounts.list_api_tokens(container.engine, 1)[0].id
    revoke = mallory.post(f"/settings/tokens/{alice_token_id}/revoke", data={"csrf_token": m_token})
    assert revoke.status_code == 404
    assert len(accounts.list_api_tokens(container.engine, 1)) == 1
    with container.engine.connect() as conn:
        row = conn.execute(select(comments.c.body_source, comments.c.deleted_at)).one()
    assert row.body_source == "mine" and row.deleted_at is None


def test_session_fixation_fails(client, container):
    make_user(container, "alice")
    planted = "attacker-chosen-session-id-0123456789abcdef"
    client.cookies.set("pw_session", planted)
    response = login(client, "alice")
    assert response.status_code == 303
    issued = response.cookies.get("pw_session")
    assert issued and issued != planted
    attacker = new_client(container)
    attacker.cookies.set("pw_session", planted)
    assert attacker.get("/api/me").status_code == 401
    # Logging in again rotates the id and ends the previous session.
    client.cookies.set("pw_session", issued)
    second = login(client, "alice")
    rotated = second.cookies.get("pw_session")
    assert rotated and rotated != issued
    stale = new_client(container)
    stale.cookies.set("pw_session", issued)
    assert stale.get("/api/me").status_code == 401
    set_cookie = second.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(sessions)) == 1


def test_stored_xss_in_comments_usernames_and_titles_is_inert(client, container):
    evil_title = '<script>alert("title")</script><img src=x onerror=alert(1)>'
    add_paper(container, title=evil_title)
    make_user(container, "alice")
    login(client, "alice")
    token = csrf_of(client.get("/settings").text)
    body = (
        '<script>alert("c")</script> <img src=x onerror=alert(2)> '
        '[click](javascript:alert(3)) <a href="javascript:alert(4)">x</a> '
        '<iframe src="https://evil.example"></iframe>'
    )
    client.post("/papers/2506.11924/comments", data={"body": body, "csrf_token": token})
    signup = client.post(
        "/signup",
        data={
            "username": "<script>x</script>",
            "email": "x@example.org",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert signup.status_code == 400 and "Usernames are" in signup.text
    pages = [
        client.get("/papers/2506.11924").text,
        client.get("/users/alice").text,
        signup.text,
    ]
    api = client.get("/api/comments", params={"paperId": "2506.11924"})
    assert api.headers["content-type"].startswith("application/json")  # source text stays data
    pages.append(api.json()["comments"][0]["html"])
    for html in pages:
        assert "<script>alert" not in html
        assert "<iframe" not in html
        assert _live_markup(html) == [], "source text became live markup"
    assert "&lt;script&gt;alert" in pages[0]


class _LiveMarkupFinder(HTMLParser):
    """Collects what a browser would run: event-handler attributes and script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")


def _live_markup(html: str) -> list[str]:
    finder = _LiveMarkupFinder()
    finder.feed(html)
    return finder.found


def _vote_storm(container, backend_note: str) -> None:
    user = make_user(container, "alice")
    add_paper(container)
    token = accounts.create_api_token(container.engine, user.id, "storm")
    headers = {"Authorization": f"Bearer {token}"}
    with (
        LiveServer(create_app(container)) as server,
        httpx.Client(
            base_url=server.url,
            headers=headers,
            timeout=60,
            limits=httpx.Limits(max_connections=64),
        ) as http,
    ):

        def vote(_):
            return http.post("/api/papers/2506.11924/upvote").status_code

        with ThreadPoolExecutor(max_workers=48) as pool:
            statuses = list(pool.map(vote, range(1000)))
    assert statuses.count(200) == 1000, {s: statuses.count(s) for s in set(statuses)}
    with container.engine.connect() as conn:
        votes = conn.scalar(select(func.count()).select_from(paper_votes))
        local = conn.scalar(select(papers.c.local_upvotes))
    assert (votes, local) == (1, 1), backend_note


def test_thousand_parallel_upvotes_leave_one_vote(container):
    _vote_storm(container, container.engine.dialect.name)


def _table_counts(container) -> dict[str, int]:
    with container.engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(t))
            for t in (users, papers, comments, daily_entries, paper_votes)
        }


INJECTIONS = [
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "x' OR '1'='1",
    'papers"; DELETE FROM papers; --',
    "title:* OR abstract:*",
    'NEAR(a b) AND "unterminated',
    "') UNION SELECT password_hash FROM users --",
    "%' --",
    "*",
]


def test_sql_and_fts_injection_changes_nothing(client, container):
    make_user(container, "alice")
    add_paper(container)
    before = _table_counts(container)
    anon = new_client(container)
    anon_token = csrf_of(anon.get("/login").text)
    login(client, "alice")
    token = csrf_of(client.get("/settings").text)
    for evil in INJECTIONS:
        responses = [
            anon.post("/login", data={"login": evil, "password": evil, "csrf_token": anon_token}),
            anon.post(
                "/signup",
                data={"username": evil, "email": evil, "password": evil, "csrf_token": anon_token},
            ),
            anon.post("/forgot-password", data={"email": evil, "csrf_token": anon_token}),
            anon.post("/login/email-link", data={"email": evil, "csrf_token": anon_token}),
            anon.get("/reset-password", params={"token": evil}),
            client.post("/submit", data={"arxiv_id": evil, "csrf_token": token}),
            client.post(
                "/api/papers/index", json={"arxivId": evil}, headers={"X-CSRF-Token": token}
            ),
            client.post("/settings/tokens", data={"name": evil + "x" * 200, "csrf_token": token}),
            client.post(
                "/papers/2506.11924/claim", data={"author_name": evil, "csrf_token": token}
            ),
            client.get(f"/users/{evil}"),
            client.get("/search", params={"q": evil}),
            client.get("/api/papers/search", params={"q": evil}),
            client.get("/api/comments", params={"paperId": evil}),
        ]
        for response in responses:
            status = response.status_code
            assert status < 500, (evil, response.request.url, response.text[:300])
    assert _table_counts(container) == before
    # Text that is stored is stored literally.
    for evil in INJECTIONS:
        client.post("/papers/2506.11924/comments", data={"body": evil, "csrf_token": token})
    with container.engine.connect() as conn:
        stored = set(conn.scalars(select(comments.c.body_source)))
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 1
    assert stored == {e.strip() for e in INJECTIONS}


def test_nul_characters_are_refused_cleanly(client, container):
    make_user(container, "alice")
    add_paper(container)
    login(client, "alice")
    token = csrf_of(client.get("/settings").text)
    evil = "nul\x00byte"
    responses = [
        client.post(
            "/signup",
            data={
                "username": evil,
                "email": f"{evil}@example.org",
                "password": evil * 3,
                "csrf_token": token,
            },
        ),
        client.post("/forgot-password", data={"email": evil, "csrf_token": token}),
        client.post("/papers/2506.11924/comments", data={"body": evil, "csrf_token": token}),
        client.post("/papers/2506.11924/claim", data={"author_name": evil, "csrf_token": token}),
        client.post("/settings/tokens", data={"name": evil, "csrf_token": token}),
        client.post("/api/papers/index", json={"arxivId": evil}, headers={"X-CSRF-Token": token}),
        client.get("/users/nul%00byte"),
        client.get("/api/comments", params={"paperId": evil}),
    ]
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    assert login(client, evil, evil).status_code == 401


def test_csrf_cookie_only_on_pages(container):
    fresh = new_client(container)
    api = fresh.get("/api/me")
    assert "pw_csrf" not in api.headers.get("set-cookie", "")
    page = fresh.get("/login")
    cookie = page.headers["set-cookie"]
    assert "pw_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
