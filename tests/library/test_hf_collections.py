"""The collections API driven by the real huggingface_hub client against a live server."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from paperwire.services import accounts
from tests.web.live_server import live_server


@pytest.fixture
def hub(container, alice, bob, papers):
    alice_token = accounts.create_api_token(container.engine, alice.user.id, "hub")
    bob_token = accounts.create_api_token(container.engine, bob.user.id, "hub")
    with live_server(container) as url:
        yield (HfApi(endpoint=url, token=alice_token), HfApi(endpoint=url, token=bob_token),
               HfApi(endpoint=url, token=False))


def _status(call) -> int:
    with pytest.raises(HfHubHTTPError) as err:
        call()
    return err.value.response.status_code


def test_collection_lifecycle_with_the_client(hub):
    api, _, _ = hub
    created = api.create_collection("Reading group", description="Weekly papers")
    assert created.slug.startswith("alice/reading-group-") and created.private is False
    assert created.title == "Reading group" and created.description == "Weekly papers"
    again = api.create_collection("reading group", exists_ok=True)
    assert again.slug == created.slug
    assert _status(lambda: api.create_collection("Reading group")) == 409
    api.add_collection_item(created.slug, item_id="2506.00001", item_type="paper", note="first")
    api.add_collection_item(created.slug, item_id="2506.00002v2", item_type="paper")
    api.add_collection_item(created.slug, item_id="2506.00001", item_type="paper",
                            exists_ok=True)
    assert _status(lambda: api.add_collection_item(created.slug, item_id="gpt2",
                                                   item_type="model")) == 400
    assert _status(lambda: api.add_collection_item(created.slug, item_id="2512.99999",
                                                   item_type="paper")) == 404
    got = api.get_collection(created.slug)
    assert [(i.item_id, i.item_type, i.note) for i in got.items] == [
        ("2506.00001", "paper", "first"), ("2506.00002", "paper", None)]
    second = got.items[1]
    api.update_collection_item(created.slug, second.item_object_id, note="moved", position=0)
    got = api.get_collection(created.slug)
    assert [i.item_id for i in got.items] == ["2506.00002", "2506.00001"]
    assert got.items[0].note == "moved"
    updated = api.update_collection_metadata(created.slug, title="Reading group 2025",
                                             private=True)
    assert updated.title == "Reading group 2025" and updated.private is True
    # The slug follows the title; the old one still resolves (the id at its end decides).
    assert updated.slug.startswith("alice/reading-group-2025-")
    assert api.get_collection(created.slug).title == "Reading group 2025"
    listed = list(api.list_collections(owner="alice"))
    assert [c.slug for c in listed] == [updated.slug]
    assert [c.slug for c in api.list_collections(owner="alice", item="papers/2506.00001")] == [
        updated.slug]
    assert list(api.list_collections(owner="alice", item="papers/2506.00003")) == []
    api.delete_collection_item(created.slug, got.items[1].item_object_id)
    assert [i.item_id for i in api.get_collection(created.slug).items] == ["2506.00002"]
    api.delete_collection_item(created.slug, "999999", missing_ok=True)
    api.delete_collection(created.slug)
    assert _status(lambda: api.get_collection(created.slug)) == 404
    api.delete_collection(created.slug, missing_ok=True)


def test_private_collections_stay_private_through_the_client(hub, alice):
    api, other, anonymous = hub
    secret = api.create_collection("Secret", private=True)
    shared = api.create_collection("Shared")
    api.add_collection_item(secret.slug, item_id="2506.00001", item_type="paper")
    for client in (other, anonymous):
        assert _status(lambda c=client: c.get_collection(secret.slug)) == 404
        assert [c.slug for c in client.list_collections(owner="alice")] == [shared.slug]
        assert client.get_collection(shared.slug).title == "Shared"
    for call in (
        lambda: other.add_collection_item(secret.slug, item_id="2506.00002", item_type="paper"),
        lambda: other.add_collection_item(shared.slug, item_id="2506.00002", item_type="paper"),
        lambda: other.update_collection_metadata(shared.slug, title="Bob's now"),
        lambda: other.delete_collection(shared.slug),
        lambda: other.delete_collection(secret.slug),
    ):
        assert _status(call) == 404
    assert _status(lambda: other.create_collection("Mine", namespace="alice")) == 403
    # (no token, no CSRF token: refused before any handler)
    assert _status(lambda: anonymous.create_collection("Nobody's", namespace="alice")) in (401, 403)
    # The slug's owner part must match: bob/<alice's id> is not Alice's collection.
    wrong = "bob/" + shared.slug.split("/", 1)[1]
    assert _status(lambda: api.get_collection(wrong)) == 404
    assert [i.item_id for i in api.get_collection(secret.slug).items] == ["2506.00001"]
    # The same collections through the site's own pages.
    page = alice.client.get(f"/collections/{secret.slug.rsplit('-', 1)[1]}?format=json")
    assert page.status_code == 200 and page.json()["name"] == "Secret"
