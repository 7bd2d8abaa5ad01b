from datetime import UTC, datetime

from paperwire.domain.records import OrganizationRecord, PaperRecord, merge_papers
from paperwire.domain.text import normalize_abstract, normalize_title, split_author_list


def test_merge_keeps_filled_fields_and_unions_sources():
    arxiv = PaperRecord(id="2506.1", title="T v2", abstract="A v2", version=2, authors=("X", "Y"),
                        categories=("cs.CL",), sources=frozenset({"arxiv"}))
    hf = PaperRecord(id="2506.1", title="T v1", abstract="A v1", version=1, ai_summary="sum",
                     source_upvotes=12, organization=OrganizationRecord("org"),
                     sources=frozenset({"hf"}))
    merged = merge_papers(arxiv, hf)
    assert merged.title == "T v2" and merged.abstract == "A v2" and merged.version == 2
    assert merged.ai_summary == "sum" and merged.source_upvotes == 12
    assert merged.organization == OrganizationRecord("org")
    assert merged.sources == {"arxiv", "hf"}
    assert merged.categories == ("cs.CL",)
    # merging the same information again changes nothing
    assert merge_papers(merged, hf) == merged and merge_papers(merged, arxiv) == merged


def test_merge_prefers_newer_version_text_either_way():
    old = PaperRecord(id="1", title="old", version=1, updated_at=datetime(2025, 1, 1, tzinfo=UTC))
    new = PaperRecord(id="1", title="new", version=3, updated_at=datetime(2025, 3, 1, tzinfo=UTC))
    assert merge_papers(old, new).title == "new"
    assert merge_papers(new, old).title == "new"


def test_upvotes_never_shrink_on_reimport_of_older_counts():
    a = PaperRecord(id="1", title="t", source_upvotes=30)
    b = PaperRecord(id="1", title="t", source_upvotes=5)
    assert merge_papers(a, b).source_upvotes == 30


def test_text_normalisation():
    assert (
        normalize_title("Aligned Novel View\n  Image Synthesis ")
        == "Aligned Novel View Image Synthesis"
    )
    assert (
        normalize_abstract("line one\nline two\n\n  second   para\n")
        == "line one line two\n\nsecond para"
    )
    assert split_author_list("A. One, B. Two and C. Three") == ["A. One", "B. Two", "C. Three"]
    assert split_author_list("Solo Author") == ["Solo Author"]


def test_merge_is_stable_whatever_the_order():
    early, late = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 3, tzinfo=UTC)
    hf = PaperRecord(id="1", title="T", published_at=late, github_repo="https://github.com/a/b",
                     github_stars=10, sources=frozenset({"hf"}))
    arxiv = PaperRecord(id="1", title="T", version=1, published_at=early,
                        github_repo="https://github.com/a/other", sources=frozenset({"arxiv"}))
    first = merge_papers(hf, arxiv)
    assert first.published_at == early and first.github_stars == 10
    # re-merging either source again changes nothing
    assert merge_papers(first, hf) == first and merge_papers(first, arxiv) == first
    # the other order agrees on every ordered field
    other = merge_papers(arxiv, hf)
    assert other.published_at == early and other.title == first.title


def test_links_from_both_sources_merge_alike_in_either_order():
    # arXiv's comments gave one project page, the authors on Hugging Face another.
    hf = PaperRecord(id="1", title="T", project_page="https://www.example.org/p",
                     github_repo="https://github.com/a/b", sources=frozenset({"hf"}))
    arxiv = PaperRecord(id="1", title="T", version=2, project_page="https://example.org/p",
                        github_repo="https://github.com/a/other", sources=frozenset({"arxiv"}))
    assert merge_papers(hf, arxiv) == merge_papers(arxiv, hf)
    merged = merge_papers(arxiv, hf)
    assert merged.project_page == "https://www.example.org/p"
    assert merged.github_repo == "https://github.com/a/b"
    assert merge_papers(merged, arxiv) == merged and merge_papers(merged, hf) == merged
