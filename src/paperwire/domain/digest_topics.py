"""Digest topics: a saved query, an author, a category or an organization."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("query", "author", "category", "organization")
_PREFIXES = {"author": "author", "category": "category", "cat": "category",
             "org": "organization", "organization": "organization", "query": "query"}
MAX_TOPIC_LENGTH = 300
MAX_TOPICS = 20


class InvalidTopic(ValueError):
    """A topic that cannot be saved; the message is a sentence for the user."""


@dataclass(frozen=True, slots=True, order=True)
class Topic:
    kind: str
    value: str

    def label(self) -> str:
        return self.value if self.kind == "query" else f"{self.kind}: {self.value}"

    def as_text(self) -> str:
        return self.value if self.kind == "query" else f"{self.kind}:{self.value}"


def parse_topic(raw: str, kind: str | None = None) -> Topic:
    """Parse 'author:Jane Doe', 'category:cs.CL', 'org:Meta' or a plain search query."""
    text = (raw or "").strip()
    if any(ch in text for ch in "\r\n\x00"):
        raise InvalidTopic("A topic must fit on one line.")
    if kind is None:
        prefix, sep, rest = text.partition(":")
        if sep and prefix.strip().lower() in _PREFIXES and rest.strip():
            kind, text = _PREFIXES[prefix.strip().lower()], rest.strip()
        else:
            kind = "query"
    if kind not in KINDS:
        raise InvalidTopic(f"Unknown topic kind {kind!r}; use one of {', '.join(KINDS)}.")
    text = " ".join(text.split())
    if not text:
        raise InvalidTopic("A topic cannot be empty.")
    if len(text) > MAX_TOPIC_LENGTH:
        raise InvalidTopic(f"A topic can be at most {MAX_TOPIC_LENGTH} characters long.")
    return Topic(kind, text)


def parse_topic_lines(text: str) -> list[Topic]:
    """One topic per line (blank lines ignored, duplicates dropped), in order."""
    topics: list[Topic] = []
    for line in (text or "").splitlines():
        if line.strip():
            topic = parse_topic(line)
            if topic not in topics:
                topics.append(topic)
    if len(topics) > MAX_TOPICS:
        raise InvalidTopic(f"At most {MAX_TOPICS} topics, please.")
    return topics
