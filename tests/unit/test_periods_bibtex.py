from datetime import date

import pytest

from paperwire.domain.bibtex import bibtex_entry, citation_key, escape_bibtex
from paperwire.domain.periods import parse_period

TODAY = date(2025, 6, 20)


def test_week_and_month_periods():
    week = parse_period(week="2025-W25", today=TODAY)
    assert (week.kind, week.start, week.end, week.key) == (
        "week",
        date(2025, 6, 16),
        date(2025, 6, 22),
        "2025-W25",
    )
    month = parse_period(month="2024-02", today=TODAY)
    assert (month.start, month.end, month.key) == (date(2024, 2, 1), date(2024, 2, 29), "2024-02")
    assert month.shifted(-2).key == "2023-12" and month.shifted(11).key == "2025-01"
    assert week.shifted(1).key == "2025-W26"
    assert parse_period(today=TODAY) is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"day": "2025-02-30"}, "not a real calendar date"),
        ({"day": "16/06/2025"}, "must look like"),
        ({"day": "1900-01-01"}, "out of range"),
        ({"day": "2999-01-01"}, "out of range"),
        ({"week": "2025-W60"}, "not a week"),
        ({"week": "2025-25"}, "must look like"),
        ({"month": "2025-13"}, "use 01 to 12"),
        ({"month": "June"}, "must look like"),
        ({"day": "2025-06-16", "week": "2025-W25"}, "only one"),
    ],
)
def test_bad_periods_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        parse_period(today=TODAY, **kwargs)


def test_bibtex_entry_escapes_and_keys():
    entry = bibtex_entry(
        arxiv_id="1706.03762",
        title="Attention Is\n  All You Need: 100% of {it} & more_",
        authors=["Ashish Vaswani", "Noam Shazeer"],
        year=2017,
        primary_category="cs.CL",
    )
    assert entry.startswith("@misc{vaswani2017attention,\n")
    assert r"title = {Attention Is All You Need: 100\% of \{it\} \& more\_}" in entry
    assert "author = {Ashish Vaswani and Noam Shazeer}" in entry
    assert "eprint = {1706.03762}" in entry and "primaryClass = {cs.CL}" in entry
    assert entry.endswith("url = {https://arxiv.org/abs/1706.03762}\n}")
    assert (
        citation_key(authors=["Jörg Müller"], year=2020, title="The Über model") == "muller2020uber"
    )
    assert citation_key(authors=[], year=2020, title="") == "anon2020"
    assert escape_bibtex("a~b^c\\") == r"a{\textasciitilde}b{\textasciicircum}c{\textbackslash}"
