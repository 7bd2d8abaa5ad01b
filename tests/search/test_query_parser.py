from datetime import date

from paperwire.search.query_parser import parse_query, to_fts5_match, to_websearch_text


def test_plain_words_drop_stopwords_and_duplicates():
    q = parse_query("The diffusion of diffusion Transformers")
    assert q.terms == ("diffusion", "transformers")
    assert to_fts5_match(q) == '"diffusion" OR "transformers"'
    assert to_websearch_text(q) == '"diffusion" or "transformers"'


def test_phrases_and_operators():
    q = parse_query(
        '"large language models" author:"Alice Zhang" cat:cs.CL after:2025-01-01 '
        "before:2025-06-30 has:code planning"
    )
    assert q.phrases == (("large", "language", "models"),)
    assert q.terms == ("planning",)
    assert q.authors == ("alice zhang",)
    assert q.categories == ("cs.CL",)
    assert q.after == date(2025, 1, 1) and q.before == date(2025, 6, 30)
    assert q.has_code and not q.notices
    assert to_fts5_match(q) == '"planning" OR "large language models"'


def test_bad_operator_values_become_notices():
    q = parse_query("before:yesterday after:2025-13-45 has:data author: transformers")
    assert q.before is None and q.after is None and not q.has_code
    assert q.terms == ("transformers",)
    assert len(q.notices) == 4
    assert any("before:2025-01-31" in n for n in q.notices)


def test_fts_syntax_is_never_passed_through():
    q = parse_query('NEAR(a b) title:x "unbalanced * - AND OR NOT ^col {x}')
    match = to_fts5_match(q)
    # Only quoted word tokens and our own OR operators remain.
    for part in match.split(" OR "):
        assert part.startswith('"') and part.endswith('"')
        assert all(ch.isalnum() or ch in ' "' for ch in part)


def test_unbalanced_quote_runs_to_the_end():
    q = parse_query('graph "neural networks')
    assert q.terms == ("graph",) and q.phrases == (("neural", "networks"),)


def test_single_word_phrase_is_a_term_and_stopword_only_query_still_searches():
    assert parse_query('"graph"').terms == ("graph",)
    assert parse_query("the who").terms == ("the", "who")


def test_empty_and_control_characters():
    assert not parse_query("").has_text
    assert not parse_query("\x00\x01 \t\n").has_text
    q = parse_query("mo\x00del")
    assert q.terms == ("mo", "del")


def test_very_long_query_is_shortened_with_a_notice():
    q = parse_query("word " * 5000)
    assert q.terms == ("word",)
    assert q.notices and "shortened" in q.notices[0]


def test_unicode_words_are_kept():
    q = parse_query("Schrödinger équation قطة 😀")
    assert "schrödinger" in q.terms and "قطة" in q.terms


def test_semantic_search_embeds_the_query_as_typed_less_its_operators():
    q = parse_query('Gaussian splatting for "novel view" synthesis author:kim after:2025-01-01 '
                    "has:code")
    assert q.embed_text == "Gaussian splatting for novel view synthesis"
    assert q.text == "novel view gaussian splatting synthesis"  # keyword terms unchanged
    abstract = "We propose a method that is robust to the noise of the input. It works."
    assert parse_query(abstract).embed_text == abstract  # order, small words, punctuation
    assert parse_query("the").embed_text == "the"
    assert parse_query('author:kim ""').embed_text == ""
