"""Linking a paper to an organization: approved authors who are members, or admins."""

from __future__ import annotations

from sqlalchemy import select

from paperwire.store.tables import organizations, papers
from tests.accounts.conftest import add_paper, csrf_of, login, make_user, new_client


def _client(container, username, role="user"):
    client = new_client(container)
    make_user(container, username, role=role)
    login(client, username)
    return client, csrf_of(client.get("/settings").text)


def _org_of(container, paper_id="2506.11924"):
    with container.engine.connect() as conn:
        return conn.execute(
            select(organizations.c.name)
            .join(papers, papers.c.organization_id == organizations.c.id)
            .where(papers.c.id == paper_id)
        ).scalar()


def _link(client, token, org, paper_id="2506.11924"):
    return client.post(f"/community/organizations/{org}/papers",
                       data={"paper_id": paper_id, "csrf_token": token}, follow_redirects=False)


def test_members_cannot_take_papers_from_other_organizations(container):
    add_paper(container, authors=("Ada Lovelace", "Bob Builder"))
    admin, a = _client(container, "boss", role="admin")
    ada, t_ada = _client(container, "ada")
    bob, t_bob = _client(container, "bob")
    for org, member in (("lab-a", "ada"), ("lab-b", "bob")):
        admin.post("/community/organizations", data={"name": org, "csrf_token": a})
        admin.post(f"/community/organizations/{org}/members",
                   data={"username": member, "csrf_token": a})

    # A member who is no approved author of the paper may not link it.
    refused = _link(bob, t_bob, "lab-b")
    assert refused.status_code == 403 and "claim your authorship" in refused.text
    assert _org_of(container) is None

    # Ada claims authorship, an admin approves, then she links it to lab-a.
    ada.post("/papers/2506.11924/claim", data={"author_name": "Ada Lovelace", "csrf_token": t_ada})
    admin.post("/moderation/claims/1/approve", data={"csrf_token": a})
    assert _link(ada, t_ada, "lab-a").status_code == 303
    assert _org_of(container) == "lab-a"

    # Bob, even as an approved author, cannot move it away from lab-a to lab-b...
    bob.post("/papers/2506.11924/claim", data={"author_name": "Bob Builder", "csrf_token": t_bob})
    admin.post("/moderation/claims/2/approve", data={"csrf_token": a})
    moved = _link(bob, t_bob, "lab-b")
    assert moved.status_code == 403 and "only an admin can move it" in moved.text
    assert _org_of(container) == "lab-a"
    json_refusal = bob.post("/community/organizations/lab-b/papers?format=json",
                            data={"paper_id": "2506.11924", "csrf_token": t_bob})
    assert json_refusal.status_code == 403
    # ...and Ada cannot link it to an organization she is not a member of.
    assert _link(ada, t_ada, "lab-b").status_code == 403

    # An admin may move it.
    assert _link(admin, a, "lab-b").status_code == 303
    assert _org_of(container) == "lab-b"
