"""Organization names are case-insensitive; one sorted, searchable organizations list."""

from __future__ import annotations

from paperwire.domain.records import OrganizationRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest


def _org_paper(engine, paper_id: str, org: OrganizationRecord) -> None:
    paper = PaperRecord(id=paper_id, title=f"Paper {paper_id}", abstract="x", organization=org,
                        sources=frozenset({"fixture"}))
    ingest(engine, [SourceItem(paper, None)], source="fixture", parameters={})


def test_organization_pages_ignore_case(seeded, client):
    moved = client.get("/organizations/NVIDIA?p=0", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/organizations/nvidia?p=0"
    assert client.get("/organizations/Nvidia?format=json").json()["organization"]["name"] == \
        "nvidia"
    assert client.get("/organizations/nobody-here").status_code == 404


def test_one_sorted_searchable_list(seeded, client):
    google = OrganizationRecord("google", "Google")
    for n in range(3):
        _org_paper(seeded.engine, f"2506.3000{n}", google)
    data = client.get("/organizations?format=json").json()
    names = [o["name"] for o in data["organizations"]]
    counts = [o["papers"] for o in data["organizations"]]
    assert counts == sorted(counts, reverse=True) and data["total"] == len(names)
    assert names[0] == "demo-lab"  # 6 demo papers, then Google's 3
    assert names.index("google") < names.index("nvidia")
    found = client.get("/organizations?q=GOO&format=json").json()
    assert [o["name"] for o in found["organizations"]] == ["google"]
    html = client.get("/organizations?q=goo").text
    assert 'href="/organizations/google"' in html and "3 papers" in html
    assert "(0 members)" not in html and "0 members" not in html
    old = client.get("/community/organizations?q=goo", follow_redirects=False)
    assert old.status_code == 308 and old.headers["location"] == "/organizations?q=goo"
