"""Snippet highlighting: stems match, the best window wins, text is HTML-safe."""

from paperwire.search.highlight import highlight
from paperwire.search.text_analysis import Analyzer

A = Analyzer()


def stems(*words):
    return set(A.stems(list(words)))


def test_marks_words_by_stem_and_keeps_case():
    out = highlight("We train Transformers on speech.", stems("transformer", "speech"), A)
    assert out == "We train <mark>Transformers</mark> on <mark>speech</mark>."


def test_picks_the_window_with_the_most_distinct_query_words():
    text = " ".join(["filler"] * 50 + ["graph"] + ["filler"] * 50 + ["graph", "neural", "nets"]
                    + ["filler"] * 50)
    out = highlight(text, stems("graph", "neural"), A, words=10)
    assert out.startswith("…") and out.endswith("…")
    assert "<mark>graph</mark> <mark>neural</mark>" in out
    assert out.count("<mark>") == 2


def test_escapes_html_before_marking():
    out = highlight('<script>alert("x")</script> & diffusion <b>models</b>',
                    stems("diffusion", "script"), A)
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;<mark>script</mark>&gt;" in out and "&amp;" in out
    assert "<mark>diffusion</mark>" in out


def test_no_match_gives_the_opening_words_and_empty_text_none():
    assert highlight("Alpha beta gamma.", stems("zeta"), A) == "Alpha beta gamma."
    assert highlight("", stems("zeta"), A) is None
    assert highlight("!!!", stems("zeta"), A) is None
