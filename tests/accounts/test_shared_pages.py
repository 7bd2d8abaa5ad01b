"""Pages shared by signed-out visitors: one cached render, each visitor's own CSRF token."""

from fastapi.testclient import TestClient

from paperwire.web.app import create_app
from tests.accounts.conftest import add_paper, csrf_of, login, make_user


def test_signed_out_visitors_share_a_page_but_not_its_csrf_token(container):
    add_paper(container)
    app = create_app(container)
    with TestClient(app) as first, TestClient(app) as second:
        page_one = first.get("/trending")
        page_two = second.get("/trending")
        token_one, token_two = csrf_of(page_one.text), csrf_of(page_two.text)
        assert token_one != token_two
        assert page_one.text.replace(token_one, "T") == page_two.text.replace(token_two, "T")
        stored = app.state.page_cache._items
        assert ("page", "trending.html", "http://testserver/trending") in stored
        # Each visitor's token is the one their own cookie makes valid: the footer
        # subscribe form posts with it and is not refused as cross-site.
        for client, token in ((first, token_one), (second, token_two)):
            answer = client.post("/subscribe", data={"email": "x@example.org",
                                                     "csrf_token": token})
            assert answer.status_code == 200, answer.text
        wrong = first.post("/subscribe", data={"email": "x@example.org", "csrf_token": token_two})
        assert wrong.status_code == 403


def test_a_signed_in_user_gets_their_own_page(container):
    add_paper(container)
    make_user(container, "alice")
    app = create_app(container)
    with TestClient(app) as anonymous, TestClient(app) as alice:
        assert "alice" not in anonymous.get("/trending").text  # now cached for visitors
        assert login(alice, "alice").status_code == 303
        page = alice.get("/trending").text
        assert "alice" in page
        assert "alice" not in anonymous.get("/trending").text


def test_a_cached_paper_page_shows_new_and_edited_comments_at_once(container):
    add_paper(container)
    make_user(container, "alice")
    app = create_app(container)
    with TestClient(app) as anonymous, TestClient(app) as alice:
        assert "Capybaras are great" not in anonymous.get("/papers/2506.11924").text
        assert ("page", "paper.html", "http://testserver/papers/2506.11924") in (
            app.state.page_cache._items)
        assert login(alice, "alice").status_code == 303
        headers = {"X-CSRF-Token": csrf_of(alice.get("/papers/2506.11924").text)}
        posted = alice.post("/api/papers/2506.11924/comments",
                            json={"body": "Capybaras are great"}, headers=headers)
        assert posted.status_code == 201
        assert "Capybaras are great" in anonymous.get("/papers/2506.11924").text
        alice.patch(f"/api/comments/{posted.json()['id']}", json={"body": "Wombats, rather"},
                    headers=headers)
        page = anonymous.get("/papers/2506.11924").text
        assert "Wombats, rather" in page and "Capybaras are great" not in page
        assert anonymous.get("/papers/2506.99999").status_code == 404
