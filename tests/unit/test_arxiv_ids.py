import pytest

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected_id", "expected_version"),
    [
        ("2506.11924", "2506.11924", None),
        ("2506.11924v2", "2506.11924", 2),
        ("0704.0001", "0704.0001", None),
        ("hep-th/9901001", "hep-th/9901001", None),
        ("hep-th/9901001v3", "hep-th/9901001", 3),
        ("math.GT/0309136", "math.GT/0309136", None),
        ("https://arxiv.org/abs/2506.11924v2", "2506.11924", 2),
        ("http://arxiv.org/pdf/2506.11924v1.pdf", "2506.11924", 1),
        ("https://arxiv.org/pdf/2506.11924", "2506.11924", None),
        ("https://arxiv.org/abs/hep-th/9901001", "hep-th/9901001", None),
        ("arXiv:2506.11924", "2506.11924", None),
        ("  2506.11924  ", "2506.11924", None),
    ],
)
def test_parses_every_supported_form(text, expected_id, expected_version):
    parsed = parse_arxiv_id(text)
    assert (parsed.id, parsed.version) == (expected_id, expected_version)


@pytest.mark.parametrize(
    "text",
    [
        "", "hello", "2513.00001", "1401.12345", "2506.119", "https://example.com/abs/2506.11924",
        "25061.1924",
    ],
)
def test_rejects_what_is_not_an_id(text):
    with pytest.raises(InvalidArxivId):
        parse_arxiv_id(text)
