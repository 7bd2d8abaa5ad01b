"""Safe parsing of user search queries.

A query is free text with a few operators:

    "exact phrase"        a phrase (words in this order)
    author:NAME           author filter (author:"Geoffrey Hinton" for several words)
    cat:cs.CL             category filter
    before:YYYY-MM-DD     published before that day (exclusive)
    after:YYYY-MM-DD      published on or after that day
    has:code              only papers with a code repository

Everything else is plain words. No user text ever reaches the FTS engine as
syntax: the compilers below emit only quoted word tokens joined by operators
they choose themselves.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

MAX_QUERY_CHARS = 2000
MAX_TERMS = 64
# Beyond this many distinct words a query is "long" (a description, a pasted abstract).
LONG_QUERY_TERMS = 8

# Words too common to help ranking; dropped from plain terms, kept inside phrases.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    via using use based"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_OPERATOR = re.compile(r'(?i)\b(author|cat|before|after|has):("([^"]*)"?|\S*)')
_PHRASE = re.compile(r'"([^"]*)("|$)')
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ParsedQuery:
    """The structured form of a user query."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    after: date | None = None
    before: date | None = None
    has_code: bool = False
    notices: tuple[str, ...] = field(default=())
    # Every plain word that is not a stopword, in order, repeats kept: long queries (a
    # pasted abstract) are ranked by their most specific words (domain.example_query).
    all_terms: tuple[str, ...] = ()
    # The query as typed, less its operators and quote marks: what a sentence encoder
    # should read (a pasted abstract keeps its word order, stopwords and punctuation).
    prose: str = ""

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases)

    @property
    def text(self) -> str:
        """The free-text part: phrases and plain words (distinct, no stopwords)."""
        parts = [" ".join(p) for p in self.phrases] + list(self.terms)
        return " ".join(parts)

    @property
    def embed_text(self) -> str:
        """What semantic search embeds: the prose as typed (`text` when there is none).

        Measured in benchmarks/RESULTS.md (issue 13): embedding the bag of distinct
        non-stopwords instead of the whole pasted abstract loses nDCG on query-by-example.
        """
        return self.prose if self.has_text and self.prose else self.text

    @property
    def has_filters(self) -> bool:
        return bool(
            self.authors or self.categories or self.after or self.before or self.has_code
        )


def words(text: str) -> list[str]:
    """Lower-cased word tokens, split the way the FTS tokenizer splits."""
    return [w.casefold() for w in _WORD.findall(text)]


def _clean(text: str) -> str:
    """Drop control and format characters, normalise Unicode."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " for ch in text
    )


def parse_query(raw: str, *, raw_text: str | None = None) -> ParsedQuery:
    """Parse a user query; never raises. Problems become notices."""
    notices: list[str] = []
    text = _clean(raw or "")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"query shortened to its first {MAX_QUERY_CHARS} characters")
    authors: list[str] = []
    categories: list[str] = []
    after = before = None
    has_code = False

    def take_operator(match: re.Match[str]) -> str:
        nonlocal after, before, has_code
        name = match.group(1).lower()
        value = (match.group(3) if match.group(3) is not None else match.group(2)).strip()
        if not value:
            notices.append(f"'{name}:' needs a value, e.g. {_EXAMPLES[name]}")
            return " "
        if name == "author":
            if words(value):
                authors.append(" ".join(value.casefold().split()))
        elif name == "cat":
            categories.append(value)
        elif name in ("before", "after"):
            day = _parse_day(value)
            if day is None:
                notices.append(f"'{name}:{value}' ignored: use a date like {name}:2025-01-31")
            elif name == "before":
                before = day
            else:
                after = day
        elif value.lower() == "code":
            has_code = True
        else:
            notices.append(f"'has:{value}' ignored: only has:code is supported")
        return " "

    text = _OPERATOR.sub(take_operator, text)
    prose = " ".join(text.replace('"', " ").split())
    phrases: list[tuple[str, ...]] = []

    def take_phrase(match: re.Match[str]) -> str:
        tokens = words(match.group(1))
        if len(tokens) == 1:
            return f" {tokens[0]} "
        if tokens:
            phrases.append(tuple(tokens[:MAX_TERMS]))
        return " "

    text = _PHRASE.sub(take_phrase, text)
    terms: list[str] = []
    seen: set[str] = set()
    all_terms: list[str] = []
    for word in words(text):
        if word in STOPWORDS:
            continue
        all_terms.append(word)
        if word in seen:
            continue
        seen.add(word)
        terms.append(word)
    if len(terms) > MAX_TERMS:
        terms = terms[:MAX_TERMS]
        if phrases:
            # With a phrase the database's full-text search ranks the plain words, the
            # first MAX_TERMS of them. Without one a long query is ranked by its most
            # specific words out of all of them (all_terms), so nothing is dropped.
            notices.append(f"only the first {MAX_TERMS} words besides the quoted phrase "
                           "were used")
    if not terms and not phrases and words(text):
        # A query made only of stopwords ("the who"): search for them anyway.
        terms = list(dict.fromkeys(words(text)))[:MAX_TERMS]
    return ParsedQuery(
        terms=tuple(terms),
        phrases=tuple(phrases),
        authors=tuple(authors),
        categories=tuple(categories),
        after=after,
        before=before,
        has_code=has_code,
        notices=tuple(notices),
        all_terms=tuple(all_terms) if len(terms) > LONG_QUERY_TERMS else (),
        prose=prose,
    )


_EXAMPLES = {
    "author": 'author:"Jane Doe"',
    "cat": "cat:cs.CL",
    "before": "before:2025-01-31",
    "after": "after:2025-01-01",
    "has": "has:code",
}


def _parse_day(value: str) -> date | None:
    if not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _fts5_token(word: str) -> str:
    # Tokens contain only letters and digits, but quote defensively anyway.
    return '"' + word.replace('"', '""') + '"'


def to_fts5_match(query: ParsedQuery) -> str | None:
    """An FTS5 MATCH expression: any term or phrase may match (OR), BM25 ranks."""
    parts = [_fts5_token(t) for t in query.terms]
    parts += ['"' + " ".join(p).replace('"', '""') + '"' for p in query.phrases]
    if not parts:
        return None
    return " OR ".join(parts)


def to_websearch_text(query: ParsedQuery) -> str | None:
    """Sanitised input for PostgreSQL's websearch_to_tsquery: quoted words joined by `or`.

    Every term and phrase is letters/digits only inside double quotes, so
    websearch_to_tsquery never sees an operator the user typed (`-`, `or`, quotes).
    """
    parts = [f'"{t}"' for t in query.terms]
    parts += ['"' + " ".join(p) + '"' for p in query.phrases]
    if not parts:
        return None
    return " or ".join(parts)
