"""The library: saving, notes, tags, marks, collections, search and filters, and that no
one else can read or change any of it."""

from __future__ import annotations

from sqlalchemy import func, select

from paperwire.store.library_tables import collection_items, library_items


def _ids(response):
    return [p["id"] for p in response.json()["papers"]]


def test_save_and_remove_through_api_and_form(alice, papers, container):
    assert alice.api("POST", "/api/library/papers/2506.00001").json()["saved"] is True
    assert alice.api("POST", "/api/library/papers/2506.00001").json()["saved"] is True  # idempotent
    response = alice.post("/papers/2506.00002/save", {"action": "add", "next": "/library"})
    assert response.status_code == 303 and response.headers["location"] == "/library"
    assert sorted(_ids(alice.client.get("/library?format=json"))) == ["2506.00001", "2506.00002"]
    alice.api("DELETE", "/api/library/papers/2506.00001")
    # An open redirect is refused: the paper page instead.
    response = alice.post("/papers/2506.00002/save", {"action": "remove", "next": "//evil.example"})
    assert response.headers["location"] == "/papers/2506.00002"
    assert _ids(alice.client.get("/library?format=json")) == []
    missing = alice.api("POST", "/api/library/papers/2599.99999")
    assert missing.status_code == 404


def test_cards_and_paper_page_offer_save_without_inline_script(alice, papers, container):
    from datetime import date

    from paperwire.domain.records import DailyEntryRecord
    from paperwire.store.papers import add_daily_entries

    with container.engine.begin() as conn:
        add_daily_entries(conn, [DailyEntryRecord("2506.00001", date.today(), "test")])
    html = alice.client.get(f"/?date={date.today().isoformat()}").text
    assert 'class="save-link" href="/papers/2506.00001/save"' in html
    assert '<script src="/static/library.js"' in html and "onclick" not in html
    paper = alice.client.get("/papers/2506.00001").text
    assert 'action="/papers/2506.00001/save"' in paper and "☆ Save" in paper
    # The no-JavaScript flow: the save link opens a form with a CSRF token.
    form = alice.client.get("/papers/2506.00001/save").text
    assert 'name="csrf_token"' in form and 'value="add"' in form
    # Without the token the form is refused.
    refused = alice.client.post("/papers/2506.00001/save", data={"action": "add"})
    assert refused.status_code == 403
    signed_out = new_anonymous(container).get("/papers/2506.00001/save", follow_redirects=False)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]


def new_anonymous(container):
    from tests.accounts.conftest import new_client

    return new_client(container)


def test_notes_are_sanitised_and_private(alice, bob, papers):
    alice.api("PUT", "/api/library/papers/2506.00001/note",
              json={"note": "**key** idea <script>alert(1)</script> [x](javascript:alert(1))"})
    item = alice.client.get("/api/library/papers/2506.00001").json()
    assert "<strong>key</strong>" in item["noteHtml"]
    assert "<script" not in item["noteHtml"] and "href=\"javascript" not in item["noteHtml"]
    page = alice.client.get("/papers/2506.00001").text
    assert "<strong>key</strong>" in page
    # Bob sees neither the note nor Alice's item, and cannot write it.
    assert bob.client.get("/api/library/papers/2506.00001").status_code == 404
    assert "<strong>key</strong>" not in bob.client.get("/papers/2506.00001").text
    bob.api("PUT", "/api/library/papers/2506.00001/note", json={"note": "bob's"})
    assert alice.client.get("/api/library/papers/2506.00001").json()["note"].startswith("**key**")
    too_long = alice.api("PUT", "/api/library/papers/2506.00001/note", json={"note": "x" * 20001})
    assert too_long.status_code == 400 and "at most" in too_long.json()["detail"]


def test_tags_limits_and_duplicates(alice, papers):
    r = alice.api("PUT", "/api/library/papers/2506.00001/tags",
                  json={"tags": ["Vision", "vision", " to-read "]})
    assert r.status_code == 200 and r.json()["tags"] == ["to-read", "Vision"]
    assert alice.api("PUT", "/api/library/papers/2506.00001/tags",
                     json={"tags": ["x" * 41]}).status_code == 400
    assert alice.api("PUT", "/api/library/papers/2506.00001/tags",
                     json={"tags": ["<b>"]}).status_code == 400
    alice.post("/papers/2506.00002/tags", {"tags": "vision, nlp"})
    tagged = alice.client.get("/library?format=json&tag=VISION")
    assert sorted(_ids(tagged)) == ["2506.00001", "2506.00002"]
    assert {t["tag"]: t["count"] for t in tagged.json()["tags"]}["Vision"] == 2


def test_marks_and_read_filter(alice, papers):
    for pid in papers:
        alice.api("POST", f"/api/library/papers/{pid}")
    alice.api("POST", "/api/library/papers/2506.00001/marks/read")
    assert _ids(alice.client.get("/library?format=json&read=read")) == ["2506.00001"]
    assert "2506.00001" not in _ids(alice.client.get("/library?format=json&read=unread"))
    state = alice.api("POST", "/api/library/papers/2506.00003/marks/not_interested").json()
    assert state["notInterested"] is True and state["saved"] is True
    alice.post("/papers/2506.00001/mark", {"kind": "read", "on": "false"})
    assert alice.client.get("/api/library/papers/2506.00001/state").json()["read"] is False
    assert alice.api("POST", "/api/library/papers/2506.00001/marks/liked").status_code == 422


def test_filter_form_with_empty_choices(alice, papers):
    alice.api("POST", "/api/library/papers/2506.00001")
    form = alice.client.get("/library?q=&mode=hybrid&collection=&tag=&read=&format=json")
    assert form.status_code == 200 and _ids(form) == ["2506.00001"]
    export = alice.client.get("/library/export?format=ris&collection=&tag=")
    assert export.status_code == 200 and "2506.00001" in export.text
    assert alice.client.get("/library?collection=x").status_code == 422


def test_library_search_only_finds_saved_papers(alice, papers):
    alice.api("POST", "/api/library/papers/2506.00001")
    alice.api("POST", "/api/library/papers/2506.00002")
    found = alice.client.get("/library?format=json&q=diffusion&mode=keyword")
    assert _ids(found) == ["2506.00001"]
    # "graph" matches a paper, but not one in the library.
    assert _ids(alice.client.get("/library?format=json&q=graph&mode=keyword")) == []
    html = alice.client.get("/library?q=transformers&mode=keyword").text
    assert "Transformers for language" in html and "Diffusion models" not in html
    # Semantic search without an embedder falls back to keywords and says so.
    hybrid = alice.client.get("/library?format=json&q=transformers")
    assert _ids(hybrid) == ["2506.00002"] and "keyword results shown" in hybrid.json()["notice"]


def test_collections_crud_names_and_several_per_paper(alice, papers, container):
    a = alice.api("POST", "/api/me/collections", json={"name": "Reading group"})
    assert a.status_code == 201
    cid = a.json()["id"]
    dup = alice.api("POST", "/api/me/collections", json={"name": "  reading   GROUP "})
    assert dup.status_code == 409 and "already have" in dup.json()["detail"]
    assert alice.api("POST", "/api/me/collections", json={"name": "x" * 101}).status_code == 400
    assert alice.api("POST", "/api/me/collections", json={"name": "  "}).status_code == 400
    b = alice.post("/collections", {"name": "Thesis", "description": "chapter 2", "public": "true"})
    assert b.status_code == 303
    bid = int(b.headers["location"].rsplit("/", 1)[1])
    for collection in (cid, bid):
        r = alice.api("POST", f"/api/me/collections/{collection}/items",
                      json={"paperId": "2506.00001"})
        assert r.status_code == 200
    item = alice.client.get("/api/library/papers/2506.00001").json()
    assert {c["name"] for c in item["collections"]} == {"Reading group", "Thesis"}
    assert _ids(alice.client.get(f"/library?format=json&collection={bid}")) == ["2506.00001"]
    form_dup = alice.post("/collections", {"name": "thesis"})
    assert form_dup.status_code == 409 and "already have" in form_dup.text
    renamed = alice.api("PATCH", f"/api/me/collections/{cid}", json={"name": "Thesis"})
    assert renamed.status_code == 409
    alice.api("DELETE", f"/api/me/collections/{cid}/items/2506.00001")
    assert alice.api("DELETE", f"/api/me/collections/{cid}").status_code == 204
    # The paper stays in the library after its collection goes.
    assert "2506.00001" in _ids(alice.client.get("/library?format=json"))
    alice.api("DELETE", "/api/library/papers/2506.00001")
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(collection_items)) == 0
        assert conn.scalar(select(func.count()).select_from(library_items)) == 0


def test_private_collections_are_404_for_everyone_else(alice, bob, papers, container):
    private = alice.api("POST", "/api/me/collections", json={"name": "Secret"}).json()["id"]
    public = alice.api("POST", "/api/me/collections",
                       json={"name": "Shared", "public": True}).json()["id"]
    for cid in (private, public):
        alice.api("POST", f"/api/me/collections/{cid}/items", json={"paperId": "2506.00002"})
    anonymous = new_anonymous(container)
    for viewer in (bob.client, anonymous):
        for path in (f"/collections/{private}", f"/collections/{private}?format=json",
                     f"/api/me/collections/{private}"):
            assert viewer.get(path).status_code == 404, path
        shared = viewer.get(f"/collections/{public}?format=json")
        assert shared.status_code == 200 and [p["id"] for p in shared.json()["papers"]] == [
            "2506.00002"]
        assert "Shared" in viewer.get(f"/collections/{public}").text
    # Bob can neither read Alice's collections through his library nor change them.
    assert bob.client.get(f"/library?format=json&collection={private}").status_code == 404
    assert bob.client.get(f"/library?format=json&collection={public}").status_code == 404
    for cid in (private, public):
        attempts = [
            bob.api("POST", f"/api/me/collections/{cid}/items", json={"paperId": "2506.00001"}),
            bob.api("DELETE", f"/api/me/collections/{cid}/items/2506.00002"),
            bob.api("PATCH", f"/api/me/collections/{cid}", json={"name": "mine now"}),
            bob.api("DELETE", f"/api/me/collections/{cid}"),
            bob.post(f"/collections/{cid}/edit", {"name": "mine now"}),
            bob.post(f"/collections/{cid}/delete"),
            bob.post("/papers/2506.00001/collections", {"collection_id": cid}),
            bob.post("/papers/2506.00002/collections", {"collection_id": cid, "action": "remove"}),
            bob.post("/papers/2506.00001/save", {"action": "add", "collection_id": cid}),
        ]
        assert all(r.status_code == 404 for r in attempts), [r.status_code for r in attempts]
    assert [c["name"] for c in bob.client.get("/api/me/collections").json()["collections"]] == []
    mine = alice.client.get(f"/collections/{private}?format=json").json()
    assert mine["name"] == "Secret" and [p["id"] for p in mine["papers"]] == ["2506.00002"]


def test_another_users_library_is_never_visible(alice, bob, papers):
    alice.api("POST", "/api/library/papers/2506.00001")
    alice.api("PUT", "/api/library/papers/2506.00001/tags", json={"tags": ["mine"]})
    alice.api("POST", "/api/library/papers/2506.00001/marks/read")
    assert _ids(bob.client.get("/library?format=json")) == []
    assert bob.client.get("/library?format=json&tag=mine").json()["tags"] == []
    assert bob.client.get("/api/library/saved?ids=2506.00001").json()["saved"] == []
    assert bob.client.get("/api/library/papers/2506.00001/state").json()["read"] is False
    # Bob removing "his" copy leaves Alice's alone.
    bob.api("DELETE", "/api/library/papers/2506.00001")
    bob.api("DELETE", "/api/library/papers/2506.00001/marks/read")
    state = alice.client.get("/api/library/papers/2506.00001/state").json()
    assert state["saved"] and state["read"]


def test_signed_out_requests_are_refused(container, papers):
    anonymous = new_anonymous(container)
    assert anonymous.get("/library?format=json").status_code == 401
    assert anonymous.get("/library", follow_redirects=False).status_code == 303
    assert anonymous.get("/api/me/collections").status_code == 401
    assert anonymous.get("/api/library/papers/2506.00001").status_code == 401
