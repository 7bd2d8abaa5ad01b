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


def test_ascii_and_unicode_texts_split_words_alike():
    """Underscores, digits, hyphens and other punctuation separate words the same way in
    ASCII text (a fast path) and in text with other characters."""
    plain = "Graph_neural nets (GNN-2) use 3D graphs; graph-based models."
    accented = plain + " Café."
    want = stems("graph", "neural", "3d")
    out = highlight(plain, want, A)
    assert out == ("<mark>Graph</mark>_<mark>neural</mark> nets (GNN-2) use <mark>3D</mark> "
                   "<mark>graphs</mark>; <mark>graph</mark>-based models.")
    assert highlight(accented, want, A) == out + " Café."


def test_a_short_query_word_marks_only_itself():
    out = highlight("A is a letter, an article, and ai is not.", stems("a"), A)
    assert out == "<mark>A</mark> is <mark>a</mark> letter, an article, and ai is not."


def test_window_far_into_a_long_text_is_placed_by_words():
    text = " ".join(f"w{i}" for i in range(300)) + " target, words. " + " ".join(
        f"v{i}" for i in range(300))
    out = highlight(text, stems("target", "words"), A, words=6)
    assert out == "…w299 <mark>target</mark>, <mark>words</mark>. v0 v1 v2…"


def test_cached_stems_equal_stems():
    analyzer = Analyzer()
    words = ["running", "graphs", "ai", "running", "networks"]
    assert analyzer.cached_stems(words) == analyzer.stems(words)
    assert analyzer.cached_stems(words[::-1]) == analyzer.stems(words[::-1])


def test_every_word_that_stems_to_a_query_word_is_marked():
    """Only words that begin like a query stem are stemmed (`stem_prefixes`); no word the
    stemmer maps to the stem is missed, including stems whose last letter differs from the
    word's ("happiness" -> "happi", "conflated" -> "conflat", "ays" -> "ai")."""
    cases = {
        "happy": "Happiness and the happiest happy days.",
        "conflate": "They conflated conflation with conflating.",
        "relational": "Relations, relational and related relatives.",
        "sensibility": "Sensible sensibilities.",
        "ays": "The ays and the ay.",
        "eyed": "An eyed, eyeing eye.",
        "ability": "Abilities able ably.",
    }
    for word, text in cases.items():
        want = stems(word)
        out = highlight(text, want, A)
        expected = [w for w in A.words(text) if A.stems([w])[0] in want]
        marked = [m.split("</mark>")[0].lower() for m in out.split("<mark>")[1:]]
        assert marked == expected, (word, out)
        assert expected
        assert highlight(text + " Café.", want, A) == out + " Café."  # the other path agrees
