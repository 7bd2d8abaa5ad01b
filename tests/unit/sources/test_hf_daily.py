"""The Hugging Face daily-papers parser, on small hand-written responses."""

from datetime import UTC, date, datetime

from paperwire.domain.records import Rejected, SourceItem
from paperwire.sources.hf_daily import parse_daily_response


def _item(paper_id="2506.08007", **paper_fields):
    paper = {
        "id": paper_id,
        "title": "Reinforcement\n  Pre-Training",
        "summary": "We introduce\nRPT. Code: https://github.com/acme/rpt.",
        "authors": [
            {"_id": "1", "name": "Qingxiu Dong", "hidden": False},
            {"_id": "2", "name": "Hidden Person", "hidden": True},
            {"_id": "3", "hidden": False},
            {"_id": "4", "name": "Furu  Wei", "hidden": False},
        ],
        "publishedAt": "2025-06-09T17:59:53.000Z",
        "upvotes": 97,
    }
    paper.update(paper_fields)
    return {"paper": paper, "title": "ignored", "numComments": 3}


def _parse(payload, fetched_for=date(2025, 6, 10), origin="2025-06-10.json"):
    return list(parse_daily_response(payload, fetched_for=fetched_for, origin=origin))


def test_maps_every_field_of_an_item():
    item = _item(
        submittedOnDailyAt="2025-06-10T00:43:01.816Z",
        submittedOnDailyBy={"user": "unilm", "fullname": "Li Dong"},
        githubStars=12,
        projectPage="https://rpt.github.io/",
        ai_summary="RPT improves accuracy.",
        ai_keywords=["RPT", " next-token prediction "],
        organization={"name": "microsoft", "fullname": "Microsoft", "avatar": "https://a/m.png"},
    )
    [result] = _parse([item])
    assert isinstance(result, SourceItem)
    paper = result.paper
    assert paper.id == "2506.08007" and paper.version is None
    assert paper.title == "Reinforcement Pre-Training"
    assert paper.abstract == "We introduce RPT. Code: https://github.com/acme/rpt."
    # Order kept, hidden authors are still authors, nameless entries skipped.
    assert paper.authors == ("Qingxiu Dong", "Hidden Person", "Furu Wei")
    assert paper.published_at == datetime(2025, 6, 9, 17, 59, 53, tzinfo=UTC)
    assert paper.github_repo == "https://github.com/acme/rpt"  # found in the abstract
    assert paper.github_stars == 12 and paper.project_page == "https://rpt.github.io/"
    assert paper.ai_summary == "RPT improves accuracy."
    assert paper.ai_keywords == ("RPT", "next-token prediction")
    assert paper.organization.name == "microsoft" and paper.organization.avatar_url == "https://a/m.png"
    assert paper.source_upvotes == 97 and paper.source_comments == 3
    assert paper.sources == {"hf"}
    entry = result.daily_entry
    assert entry.paper_id == "2506.08007" and entry.source == "hf"
    assert (entry.submitted_by, entry.submitted_by_name) == ("unilm", "Li Dong")
    assert entry.submitted_at == datetime(2025, 6, 10, 0, 43, 1, 816000, tzinfo=UTC)


def test_source_github_field_wins_and_item_level_fallbacks_apply():
    item = _item(githubRepo="https://github.com/acme/official")
    item["organization"] = {"name": "acme", "fullname": "Acme Labs"}
    item["submittedBy"] = {"name": "alice", "fullname": "Alice A."}
    [result] = _parse([item])
    assert result.paper.github_repo == "https://github.com/acme/official"
    assert result.paper.organization.fullname == "Acme Labs"
    assert (result.daily_entry.submitted_by, result.daily_entry.submitted_by_name) == (
        "alice",
        "Alice A.",
    )


def test_day_is_submitted_on_daily_at_else_the_fetched_day():
    with_stamp = _item("2506.00001", submittedOnDailyAt="2025-06-12T23:59:00.000Z")
    without = _item("2506.00002")
    first, second = _parse([with_stamp, without], fetched_for=date(2025, 6, 10))
    assert first.daily_entry.day == date(2025, 6, 12)
    assert second.daily_entry.day == date(2025, 6, 10)
    assert second.daily_entry.submitted_at is None


def test_no_day_at_all_gives_a_paper_without_daily_entry():
    [result] = _parse([_item()], fetched_for=None)
    assert isinstance(result, SourceItem) and result.daily_entry is None


def test_repr_string_items_are_recovered_without_eval():
    item = _item(submittedOnDailyAt="2025-01-03T08:00:00.000Z", githubRepo=None)
    item["paper"]["authors"][0]["hidden"] = False  # repr writes False, not false
    [result] = _parse([repr(item)], fetched_for=date(2025, 1, 3))
    assert isinstance(result, SourceItem)
    assert result.paper.authors[0] == "Qingxiu Dong"
    assert result.daily_entry.day == date(2025, 1, 3)


def test_unsafe_or_broken_strings_are_rejected_with_their_item_number(tmp_path):
    marker = tmp_path / "executed"
    evil = f"{{'paper': __import__('pathlib').Path({str(marker)!r}).touch()}}"
    payload = [_item("2506.00001"), evil, "{'paper': {'id': '2506.00003'", "not an object", 42]
    results = _parse(payload, origin="2025-01-10.json")
    assert isinstance(results[0], SourceItem)
    rejected = results[1:]
    assert all(isinstance(r, Rejected) for r in rejected)
    assert [r.where for r in rejected] == [f"2025-01-10.json item {n}" for n in (2, 3, 4, 5)]
    assert "Python literal" in rejected[0].reason
    assert not marker.exists()


def test_wrapper_object_is_unwrapped_and_its_date_is_used():
    wrapper = {"status": "success", "date": "2025-01-10", "count": 2, "data": [
        _item("2501.05441"),
        repr(_item("2501.05442", submittedOnDailyAt="2025-01-10T01:00:00.000Z")),
    ]}
    results = _parse(wrapper, fetched_for=date(2025, 1, 9), origin="x.json")
    assert [r.paper.id for r in results] == ["2501.05441", "2501.05442"]
    assert {r.daily_entry.day for r in results} == {date(2025, 1, 10)}


def test_bad_items_and_responses_are_reported_not_raised():
    untitled = _item(title="  ", summary=None)
    del untitled["title"]
    results = _parse([_item("not-an-id"), untitled], origin="f.json")
    assert [type(r) for r in results] == [Rejected, Rejected]
    assert results[0].where == "f.json item 1" and "arXiv id" in results[0].reason
    assert "no title" in results[1].reason
    assert _parse({"error": "Invalid date"}, origin="g.json") == [
        Rejected("g.json", "the response is an error: Invalid date")
    ]
    [not_a_response] = _parse("hello", origin="h.json")
    assert not_a_response.where == "h.json" and "list" in not_a_response.reason


def test_versioned_ids_keep_their_version():
    [result] = _parse([_item("2506.08007v3")])
    assert result.paper.id == "2506.08007" and result.paper.version == 3


def test_keeps_item_fields_thumbnail_published_at_submitter_and_order():
    first = _item("2506.00001") | {
        "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2506.00001.png",
        "publishedAt": "2025-06-09T13:59:53.000Z",
        "submittedBy": {
            "_id": "642673f185f26ab94af4b422", "avatarUrl": "/avatars/a.svg",
            "fullname": " Li   Dong ", "name": "unilm", "type": "user", "isPro": False,
            "isHf": False, "isMod": False, "followerCount": 3, "isUserFollowing": False,
        },
    }
    second = _item("2506.00002") | {"thumbnail": "javascript:alert(1)", "publishedAt": "nope"}
    a, b = _parse([first, second])
    entry = a.daily_entry
    assert entry.thumbnail == first["thumbnail"] and entry.source_position == 1
    assert entry.published_at == datetime(2025, 6, 9, 13, 59, 53, tzinfo=UTC)
    assert a.paper.published_at == datetime(2025, 6, 9, 17, 59, 53, tzinfo=UTC)  # the paper's
    assert entry.submitter == {
        "_id": "642673f185f26ab94af4b422", "avatarUrl": "/avatars/a.svg", "fullname": "Li Dong",
        "name": "unilm", "type": "user", "isPro": False, "isHf": False, "isMod": False,
        "followerCount": 3,
    }
    assert b.daily_entry.thumbnail is None and b.daily_entry.published_at is None
    assert b.daily_entry.source_position == 2 and b.daily_entry.submitter is None


def test_submitter_values_are_sanitised():
    item = _item() | {
        "submittedBy": {
            "name": "<script>x</script>", "fullname": "x" * 400, "avatarUrl": "//evil.example/a",
            "isPro": "yes", "followerCount": -4, "type": "user\n", "_id": 7,
        }
    }
    item["paper"]["submittedOnDailyBy"] = {"user": "real-user", "avatarUrl": "https://u:p@h/x"}
    (parsed,) = _parse([item])
    # The item's bad name wins over the paper's and is then dropped: nothing unsafe stays.
    assert parsed.daily_entry.submitter == {"type": "user"}
    assert parsed.daily_entry.submitted_by == "real-user"


def test_safe_url_rules():
    from paperwire.domain.urls import safe_url

    assert safe_url("https://x.org/a.png", allow_relative=False) == "https://x.org/a.png"
    assert safe_url("/avatars/a.svg", allow_relative=False) is None
    assert safe_url("/avatars/a.svg", allow_relative=True) == "/avatars/a.svg"
    for bad in ("data:image/png;base64,xx", "https://", "http://a b", "https://x\u0000",
                "ftp://x.org/a", "https://" + "a" * 2100, 12, None, "//x.org/a"):
        assert safe_url(bad, allow_relative=True) is None
