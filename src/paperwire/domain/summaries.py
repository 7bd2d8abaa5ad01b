"""A one-sentence extractive summary: the abstract's sentence that states the contribution.

Abstracts usually open with background ("Large language models have shown ...") and state
what the paper does in a later sentence ("We propose X, a ..."). Each sentence is scored on
principles from extractive summarisation, not tuned to one data set:
- contribution cues: a first-person or "this paper" subject with a verb of contribution
  ("we propose", "this paper introduces", "X is a framework that");
- background and detail cues lower a sentence ("however", "recent", "existing", numbered
  results, "code is available");
- overlap with the title's content words (the title names the contribution);
- position: earlier is a little better, the first sentence is usually background;
- length: a sentence of 12 to 45 words reads as a summary; very short or long ones less so.
The best sentence is then tidied: lead-ins ("In this paper,", "To address this gap,") go,
"We propose" becomes "This paper proposes", and an overlong sentence is cut at a clause.
"""

from __future__ import annotations

import re

from paperwire.domain.keyphrases import clean_text as _clean_for_words

MAX_SENTENCES = 40  # sentences looked at (a 20,000-character abstract has ~150)
MAX_WORDS = 50  # longer sentences are cut at a clause boundary
MIN_WORDS = 4

# Abbreviations whose dot does not end a sentence.
_ABBREVIATIONS = (
    "e.g", "i.e", "et al", "etc", "cf", "vs", "fig", "figs", "eq", "eqs", "sec", "no",
    "approx", "resp", "dr", "prof", "mr", "ms", "st", "al", "viz", "ca", "incl",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$\\])|(?<=[。！？])\s*")
_WORD = re.compile(r"[^\W_]+")

_CONTRIBUTION_VERBS = (
    "propose|present|introduce|develop|design|describe|build|release|construct|formulate|"
    "offer|devise|establish|create|provide|put forward|contribute|curate|collect|unveil"
)
_STRONG_CUE = re.compile(
    rf"\b(?:we|this (?:paper|work|study|article|report|letter)|our (?:work|paper|study)|"
    rf"here we|in this (?:paper|work|study)[, ]+we)\s+(?:also\s+|further\s+|first\s+|then\s+|"
    rf"therefore\s+|thus\s+)?(?:{_CONTRIBUTION_VERBS})(?:s|d|ed|es)?\b",
    re.I,
)
_DEFINITION_CUE = re.compile(
    r"^[A-Z][\w\-.]*(?:\s*\([^)]*\))?,?\s+(?:is|are)\s+(?:a|an|the)\s+\w+", re.I
)
_MEDIUM_CUE = re.compile(
    r"\b(?:we|our (?:method|approach|framework|model|system|algorithm))\s+"
    r"(?:show|demonstrate|find|study|investigate|explore|address|tackle|leverage|"
    r"achieve|enable|extend|adapt|train|analy[sz]e|evaluate|examine|focus)\w*\b"
    r"|\b(?:novel|new)\s+(?:method|approach|framework|model|benchmark|dataset|paradigm|"
    r"architecture|algorithm|technique|system|pipeline)\b",
    re.I,
)
_BACKGROUND_CUE = re.compile(
    r"^(?:however|recent(?:ly)?|existing|current(?:ly)?|despite|although|while|"
    r"traditional|conventional|prior|previous|many|most)\b"
    r"|\b(?:have (?:shown|demonstrated|achieved|emerged|been)|has (?:shown|become|been)|"
    r"remains? (?:a|an|challenging|difficult|unclear|limited)|suffer|struggle|"
    r"is (?:a|an) (?:fundamental|key|crucial|critical|important|challenging))\b",
    re.I,
)
_DETAIL_CUE = re.compile(
    r"\b(?:code|data|models?|dataset|weights)\b[^.]{0,40}\b(?:available|released|"
    r"open-?sourced?)\b|https?://|github|\d+(?:\.\d+)?\s*%|\bexperiments? (?:on|show)\b",
    re.I,
)
_LEAD_IN = re.compile(
    r"^(?:(?:in|within) (?:this|the present|our) (?:paper|work|study|article|report|letter)"
    r"|to (?:this end|address|tackle|overcome|fill|bridge|solve|mitigate|alleviate|close)"
    r"[^,]{0,80}|here|herein|therefore|thus|hence|consequently|accordingly|motivated by"
    r"[^,]{0,80}|inspired by[^,]{0,80}|building on[^,]{0,80}|specifically|concretely|"
    r"in (?:response|contrast|particular)|as a result|finally|first|moreover|furthermore|"
    r"additionally|instead)\s*,\s*",
    re.I,
)
_WE_VERB = re.compile(r"^we\s+(?:also\s+|further\s+|then\s+|first\s+)?([a-z]+)\b", re.I)
_VERB_THIRD_PERSON = {
    "propose", "present", "introduce", "develop", "design", "describe", "build", "release",
    "construct", "formulate", "offer", "devise", "establish", "create", "provide", "study",
    "investigate", "explore", "address", "tackle", "show", "demonstrate", "find", "analyze",
    "analyse", "examine", "evaluate", "leverage", "extend", "revisit", "consider", "curate",
    "collect", "contribute", "train", "focus", "identify", "argue", "report", "unveil",
}
_CLAUSE_CUT = re.compile(r",\s+(?:which|where|while|achieving|resulting|leading|allowing|"
                         r"enabling|yielding|and|thereby|outperforming|showing)\b|;\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of an abstract (abbreviations, decimals and initials do not split)."""
    text = " ".join((text or "").split())
    if not text:
        return []
    pieces = _SENTENCE_END.split(text)
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ends_with_abbreviation(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


def _ends_with_abbreviation(sentence: str) -> bool:
    tail = sentence.rstrip(".").rsplit(None, 1)[-1].lower().lstrip("(")
    if tail in _ABBREVIATIONS:
        return True
    return len(tail) == 1 and tail.isalpha()  # an initial: "J. Smith"


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(_clean_for_words(text)) if len(w) > 3}


def score_sentence(sentence: str, index: int, title_words: set[str]) -> float:
    """How well one sentence (at 0-based `index`) states the paper's contribution."""
    words = sentence.split()
    n = len(words)
    score = 0.0
    if _STRONG_CUE.search(sentence):
        score += 3.0
    elif _DEFINITION_CUE.search(sentence) and index > 0:
        score += 1.5
    if _MEDIUM_CUE.search(sentence):
        score += 1.0
    if _BACKGROUND_CUE.search(sentence):
        score -= 1.5
    if _DETAIL_CUE.search(sentence):
        score -= 1.0
    if title_words:
        overlap = len(_content_words(sentence) & title_words) / len(title_words)
        score += 2.0 * overlap
    score += 0.6 / (1 + index)  # earlier is a little better
    if n < 8:
        score -= 1.5
    elif n > 60:
        score -= 1.0
    elif 12 <= n <= 45:
        score += 0.3
    return score


def extractive_summary(title: str, abstract: str) -> str | None:
    """One sentence that states the contribution, tidied; None for an empty abstract."""
    sentences = split_sentences(abstract)[:MAX_SENTENCES]
    sentences = [s for s in sentences if len(s.split()) >= MIN_WORDS] or sentences
    if not sentences:
        return None
    title_words = _content_words(title or "")
    best = max(
        range(len(sentences)),
        key=lambda i: (score_sentence(sentences[i], i, title_words), -i),
    )
    return tidy_sentence(sentences[best])


def tidy_sentence(sentence: str) -> str:
    """The sentence as a stand-alone summary: no lead-in, third person, at most MAX_WORDS."""
    text = sentence.strip()
    for _ in range(2):  # "In this paper, to address this, we ..." has two lead-ins
        text = _LEAD_IN.sub("", text, count=1)
    match = _WE_VERB.match(text)
    if match and match.group(1).lower() in _VERB_THIRD_PERSON:
        verb = _third_person(match.group(1).lower())
        text = "This paper " + verb + text[match.end():]
    elif text.lower().startswith("we "):
        text = "The authors " + text[3:]
    text = _cut(text)
    text = text[:1].upper() + text[1:]
    if text and text[-1] not in ".!?。！？…":
        text = text.rstrip(",;:") + "."
    return text


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "sh", "ch", "x")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _cut(text: str) -> str:
    words = text.split()
    if len(words) <= MAX_WORDS:
        return text
    limit = len(" ".join(words[:MAX_WORDS]))
    cuts = [m.start() for m in _CLAUSE_CUT.finditer(text) if 40 <= m.start() <= limit]
    if cuts:
        return text[: cuts[-1]].rstrip(",;: ") + "."
    return " ".join(words[:MAX_WORDS]).rstrip(",;:") + "…"


def lead_sentence(abstract: str) -> str | None:
    """The abstract's first sentence (the lead-1 baseline)."""
    sentences = split_sentences(abstract)
    return sentences[0] if sentences else None
