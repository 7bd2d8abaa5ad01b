"""Rules for what users type into their library: collection names, tags, notes, keywords.

Pure: each function either returns the cleaned value or raises `LibraryInputError` with a
sentence that says what to do.
"""

from __future__ import annotations

import re
import unicodedata

COLLECTION_NAME_MAX = 100
COLLECTION_DESCRIPTION_MAX = 2000
TAG_MAX = 40
TAGS_PER_PAPER_MAX = 30
NOTE_MAX = 20_000
KEYWORDS_MAX = 50
KEYWORD_MAX = 80
FOLLOW_VALUE_MAX = 300
COLLECTIONS_PER_USER_MAX = 500
FOLLOWS_PER_USER_MAX = 500

_TAG_RE = re.compile(r"^[\w][\w .+#/-]*$")


class LibraryInputError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _clean(text: str) -> str:
    return " ".join(text.replace("\x00", "").split())


def name_key(name: str) -> str:
    """Names compare without regard to case, accents of composed forms or spacing."""
    return unicodedata.normalize("NFKC", _clean(name)).casefold()


def collection_name(name: str) -> str:
    name = _clean(name)
    if not name:
        raise LibraryInputError("Give the collection a name.", "name")
    if len(name) > COLLECTION_NAME_MAX:
        raise LibraryInputError(
            f"Collection names have at most {COLLECTION_NAME_MAX} characters.", "name"
        )
    return name


def collection_description(text: str) -> str:
    text = text.replace("\x00", "").strip()
    if len(text) > COLLECTION_DESCRIPTION_MAX:
        raise LibraryInputError(
            f"Descriptions have at most {COLLECTION_DESCRIPTION_MAX} characters.", "description"
        )
    return text


def tag(text: str) -> str:
    value = _clean(text).lstrip("#").strip()
    if not value:
        raise LibraryInputError("A tag cannot be empty.", "tags")
    if len(value) > TAG_MAX:
        raise LibraryInputError(f"Tags have at most {TAG_MAX} characters.", "tags")
    if not _TAG_RE.match(value):
        raise LibraryInputError(
            f"The tag {value!r} has characters tags cannot hold: use letters, digits, spaces "
            "and . + # / - _.",
            "tags",
        )
    return value


def tag_list(text: str) -> list[str]:
    """Comma-separated tags, cleaned and de-duplicated (first spelling wins)."""
    seen: dict[str, str] = {}
    for part in text.split(","):
        if part.strip():
            value = tag(part)
            seen.setdefault(name_key(value), value)
    if len(seen) > TAGS_PER_PAPER_MAX:
        raise LibraryInputError(f"A paper can have at most {TAGS_PER_PAPER_MAX} tags.", "tags")
    return list(seen.values())


def note(text: str) -> str:
    text = text.replace("\x00", "")
    if len(text) > NOTE_MAX:
        raise LibraryInputError(f"Notes have at most {NOTE_MAX} characters.", "note")
    return text


def keyword_list(text: str, field: str) -> list[str]:
    """Comma- or newline-separated feed keywords, lower-cased and de-duplicated."""
    words: dict[str, str] = {}
    for part in re.split(r"[,\n]", text.replace("\x00", "")):
        value = _clean(part)
        if not value:
            continue
        if len(value) > KEYWORD_MAX:
            raise LibraryInputError(f"Keywords have at most {KEYWORD_MAX} characters.", field)
        words.setdefault(value.casefold(), value)
    if len(words) > KEYWORDS_MAX:
        raise LibraryInputError(f"At most {KEYWORDS_MAX} keywords.", field)
    return list(words.values())


def follow_value(text: str) -> str:
    value = _clean(text)
    if not value:
        raise LibraryInputError("Say what to follow.", "value")
    if len(value) > FOLLOW_VALUE_MAX:
        raise LibraryInputError(f"At most {FOLLOW_VALUE_MAX} characters.", "value")
    return value


_LATEX_MACRO = re.compile(r"\\[a-zA-Z]+\s*")  # \emph, \textit ...
_NOT_WORD = re.compile(r"[^\w\s]")


def normalised_title(title: str) -> str:
    """Titles compared for import matching: accents folded, LaTeX braces and punctuation
    dropped, case and spacing ignored. (Called on every stored title during an import:
    ASCII titles skip the Unicode folding, which is most of the cost.)"""
    folded = title
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    if "\\" in folded:
        folded = _LATEX_MACRO.sub(" ", folded)
    return " ".join(_NOT_WORD.sub(" ", folded.casefold()).split())
