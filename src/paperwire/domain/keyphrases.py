"""Keyphrases of a paper from its title and abstract: noun phrases a researcher would type.

The method, without a part-of-speech model:
1. Clean the text: LaTeX commands and inline math become phrase boundaries, URLs go.
2. Candidates are the runs of words between boundaries: punctuation, stopwords, verbs of
   scientific prose ("propose", "achieves", "show") and adverbs ("-ly"). A run keeps at
   most MAX_WORDS words; a longer run (often text in a language without these stopwords)
   yields no phrase, so such text gives few phrases or none rather than whole clauses.
3. Each candidate is scored by in-document statistics and corpus rarity:
   - the mean weight of its words: how often each word occurs in this paper (central
     words) times the square root of its corpus IDF (rare words mark a topic, damped so
     one-off rare words do not win), times a length factor that favours two- and
     three-word phrases;
   - how often the phrase (by stems) occurs, counting a defined acronym ("large language
     models (LLMs)") as an occurrence of the phrase it stands for;
   - where it first occurs (earlier is better) and whether the title holds it.
4. The best phrases are taken greedily with maximal marginal relevance: a phrase inside
   or equal to a chosen one is skipped, one that repeats chosen words loses part of its
   score, and one-word phrases that are generic ("method", "results") or found in no
   other paper (its own name: the chip's search would find only this paper) are never
   chips.

`idf` is a callable from a word to its inverse document frequency, built from document
frequencies over the stored papers (`idf_from_frequencies`); without one, every word
weighs the same.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

MIN_PHRASES = 5
MAX_PHRASES = 8
MAX_WORDS = 4  # longest phrase kept
MAX_CHARS = 12_000  # the first 12,000 characters are enough to find the topic
MAX_PHRASE_CHARS = 60
# One-word phrases are weaker chips than two- and three-word ones ("attention" vs
# "sparse attention"); four words start to read like a clause.
LENGTH_FACTOR = {1: 0.5, 2: 1.0, 3: 1.05, 4: 0.9}
# Diversity (maximal marginal relevance): a phrase's score is scaled by the share of its
# words that the phrases chosen before it do not show yet (times this penalty).
REPEAT_PENALTY = 1.0

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _words("""
a about above across after again against all almost along already also although always am
among an and another any anyone anything are around as at be became because become becomes
been before being below beside besides between beyond both but by can cannot could did do
does doing done down due during each either else enough especially etc even ever every few
for from further furthermore had has have having he hence her here hers herself him himself
his how however i if in inside instead into is it its itself just least less let like many
may me meanwhile might mine more moreover most mostly much must my myself namely neither
never nevertheless no nor not nothing now of off often on once one only onto or other others
otherwise our ours ourselves out over own per perhaps quite rather re same several she
should since so some such than that the their theirs them themselves then there thereby
therefore these they this those though through throughout thus to together too toward
towards under unless unlike until up upon us very via was we well were what whatever when
whenever where whereas wherein whether which while who whole whom whose why will with within
without would yet you your yours yourself i.e e.g eg ie et al vs cf viz first second third
fourth fifth firstly secondly finally new novel existing various different diverse many
multiple numerous specific particular certain given general overall key main major important
significant substantial considerable extensive comprehensive simple effective efficient
strong robust superior better best good high higher highest low lower large-scale small-
scale state-of-the-art sota prior previous recent recently current currently traditional
conventional standard typical typically widely commonly able capable possible available
respectively additionally specifically notably approximately roughly nearly significantly
substantially consistently remarkably across-the-board two three four five six seven eight
nine ten dozens hundreds thousands millions billions way ways kind kinds type types lot lots
number numbers amount set sets paper papers work works study studies article letter
manuscript report thesis
""")

# Evaluative and hedging adjectives: they grade a paper's claims, they are not its topic.
_EVALUATIVE = _words("""
impressive remarkable promising vital crucial critical essential fundamental empirical
excellent outstanding competitive favorable favourable great greater greatest notable
powerful challenging difficult unprecedented emerging growing increasing rapid tremendous
exceptional compelling satisfactory desirable undesirable successful inherent intrinsic
percent percentage real-world practical realistic promising straightforward
""")
_STOPWORDS = _STOPWORDS | _EVALUATIVE

# Verbs of scientific prose, given as stems; their inflections are boundaries too.
_VERB_STEMS = _words("""
accelerate achieve adapt address adopt aim allow alleviate analyse analyze apply argue
assess assume attain attempt augment avoid bridge build capture carry choose claim combine
compare compose compute conduct confirm consider consist constrain construct contain
contribute convert create curate deal decompose define demonstrate derive describe design
detect determine develop devise discover discuss eliminate employ enable encourage enhance
ensure establish estimate evaluate examine exceed exhibit exist expand explain exploit
explore extend extract facilitate fail find focus follow formulate gain generalize give
guarantee guide handle help highlight hinder identify illustrate implement improve include
incorporate increase indicate induce inform integrate introduce investigate involve keep
lack lead leverage limit maintain make match measure mitigate motivate need obtain observe
offer operate outperform overcome perform pose present preserve prevent produce promote
propose prove provide pursue reach realize receive reduce refine reflect release rely remain
render replace report represent require reveal run scale seek serve show solve specify
suffer suggest support surpass take tackle tend train transfer treat undergo underpin
understand unify use utilize validate verify want yield
""")


def _inflections(stem: str) -> set[str]:
    forms = {stem, stem + "s", stem + "ed", stem + "ing", stem + "es"}
    if stem.endswith("e"):
        forms |= {stem + "d", stem[:-1] + "ing"}
    if stem.endswith("y") and stem[-2:-1] not in "aeiou":
        forms |= {stem[:-1] + "ies", stem[:-1] + "ied"}
    if re.search(r"[^aeiou][aeiou][bdgmnprt]$", stem):  # run -> running
        forms |= {stem + stem[-1] + "ing", stem + stem[-1] + "ed"}
    return forms


_IRREGULAR = _words("""
made found shown given taken led kept ran built chose chosen sought held went spend spends
spent depend depends retain retains demand demands envision envisions lie lies outperforms
outperforming surpasses remains enables allows requires reveals
""")
_VERBS = frozenset().union(*(_inflections(s) for s in _VERB_STEMS), _IRREGULAR)
# Inflections that are mostly nouns in abstracts ("training data", "learning", "results").
_NOUN_LIKE = _words("""
training learning reasoning understanding modeling modelling planning reasoning sampling
pretraining fine-tuning finetuning computing processing ranking embedding embeddings
encoding decoding matching mapping tracking labeling labelling clustering segmentation
forecasting scheduling routing editing rendering grounding prompting retrieval results
result needs supports limits offers leads measures measure yield yields design designs
reports report claims claim focus transfer scale scales release releases lack match matches
handle run runs guide guides help estimate estimates support limit find findings study use
uses represent representation review attempt attempts
""")

# One-word phrases too generic to be a chip on their own.
_GENERIC = _words("""
method methods approach approaches model models framework frameworks system systems
technique techniques result results performance task tasks problem problems data dataset
datasets experiment experiments analysis evaluation evaluations benchmark setting settings
baseline baselines accuracy quality application applications domain domains process solution
solutions algorithm algorithms strategy strategies mechanism module modules component
components architecture design information knowledge feature features input inputs output
outputs research field area areas effect effects impact challenge challenges issue issues
limitation limitations gap improvement improvements capability capabilities ability
abilities tool tools network networks structure level levels scale step steps stage stages
part parts case cases example examples time times cost costs form forms fact order use value
values degree rate rates size sizes range variety aspect aspects factor factors terms term
manner context contexts scenario scenarios
""")

_URL = re.compile(r"https?://\S+|www\.\S+")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_LATEX_TEXT_CMD = re.compile(
    r"\\(?:emph|textit|textbf|texttt|textsc|text|mathrm|mathbf)\{([^{}]*)\}")
_LATEX_CMD = re.compile(r"\\[A-Za-z]+\*?(?:\{[^{}]*\})?|[{}]")
# Word tokens: letters/digits with inner hyphens, dots or slashes (GPT-4o, 1.5B, R@1).
_TOKEN = re.compile(r"[^\W_](?:[\w'+]|[-./@](?=[^\W_]))*")
_BOUNDARY = re.compile(r"[.,;:!?()\[\]{}\"“”‘’«»|<>=/\\]|\s[-–—]\s|\n")
_ACRONYM_DEF = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]*[A-Z][A-Za-z0-9\-]*s?)\s*[),;]")
_HAS_LETTER = re.compile(r"[^\W\d_]")


@dataclass(slots=True)
class _Candidate:
    words: tuple[str, ...]  # as written (first occurrence)
    count: int
    first: int  # word position of the first occurrence
    in_title: bool


def clean_text(text: str) -> str:
    """Text with URLs, math and LaTeX markup replaced by phrase boundaries."""
    text = _URL.sub(" . ", text)
    text = _MATH.sub(" . ", text)
    text = _LATEX_TEXT_CMD.sub(r"\1", text)
    text = _LATEX_CMD.sub(" . ", text)
    text = text.replace("~", " ")
    return text


def _is_stop(lower: str) -> bool:
    if lower in _STOPWORDS:
        return True
    if lower in _NOUN_LIKE:
        return False
    if lower in _VERBS:
        return True
    if len(lower) > 4 and lower.endswith("ly") and lower.isalpha():
        return True  # adverbs
    return not _HAS_LETTER.search(lower)  # numbers and symbols


def _runs(text: str) -> list[list[str]]:
    """Runs of candidate words between boundaries and stopwords."""
    runs: list[list[str]] = []
    for chunk in _BOUNDARY.split(text):
        current: list[str] = []
        for token in _TOKEN.findall(chunk):
            token = token.strip("'")
            if not token or _is_stop(token.lower()) or len(token) > 40:
                if current:
                    runs.append(current)
                current = []
                if token and len(token) > 40:
                    runs.append([])  # a marker that keeps positions honest
            else:
                current.append(token)
        if current:
            runs.append(current)
    return runs


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light, dependency-free stem: case-folded, plural and possessive endings removed."""
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.isalpha():
        if w.endswith("ies") and len(w) > 5:
            w = w[:-3] + "y"
        elif w.endswith(("sses", "shes", "ches", "xes")):
            w = w[:-2]
        elif w.endswith("s") and not w.endswith(("ss", "us", "is", "ous")):
            w = w[:-1]
    elif len(w) > 3 and w.endswith("s") and w[:-1].isupper() is False and w[-2].isupper():
        w = w[:-1]  # LLMs -> llm (the lower-cased acronym plural)
    return w


def _acronym_key(word: str) -> str | None:
    """The key of an acronym as written (LLMs -> llm), or None for a plain word."""
    core = word[:-1] if word.endswith("s") and len(word) > 2 else word
    if sum(c.isupper() for c in core) >= 2:
        return core.lower()
    return None


def _definitions(text: str) -> dict[str, tuple[str, ...]]:
    """Acronyms defined in the text, mapped to the stems of the phrase they stand for."""
    found: dict[str, tuple[str, ...]] = {}
    for match in _ACRONYM_DEF.finditer(text):
        acronym = match.group(1)
        key = _acronym_key(acronym)
        if key is None:
            continue
        letters = [c.lower() for c in acronym if c.isupper()]
        before = _TOKEN.findall(text[max(0, match.start() - 200): match.start()])
        # Walk back until the initials of the words cover the acronym's capitals.
        phrase: list[str] = []
        for token in reversed(before):
            if _is_stop(token.lower()) and len(phrase) > 0:
                break
            phrase.insert(0, token)
            initials = [p[0].lower() for p in phrase] + [
                c.lower() for p in phrase for c in p[1:] if c.isupper()
            ]
            if phrase[0][0].lower() == letters[0] and len(set(letters) - set(initials)) == 0:
                break
            if len(phrase) >= MAX_WORDS:
                break
        if phrase and phrase[0][0].lower() == letters[0] and 1 < len(phrase) <= MAX_WORDS:
            found[key] = tuple(stem(p) for p in phrase)
    return found


def extract_keyphrases(
    title: str,
    abstract: str,
    *,
    idf: Callable[[str], float] | None = None,
    max_phrases: int = MAX_PHRASES,
) -> list[str]:
    """Up to `max_phrases` keyphrases (best first) of a paper; [] when nothing fits.

    Never raises on odd text: empty, one word, LaTeX, another language, very long.
    """
    title = clean_text(title or "")
    abstract = clean_text((abstract or "")[:MAX_CHARS])
    if not title.strip() and not abstract.strip():
        return []
    definitions = _definitions(title + " . " + abstract)
    title_runs = _runs(title)
    title_keys = {tuple(stem(w) for w in run[i:j])
                  for run in title_runs for i in range(len(run))
                  for j in range(i + 1, min(len(run), i + MAX_WORDS) + 1)}
    title_stems = {stem(w) for run in title_runs for w in run}
    candidates: dict[tuple[str, ...], _Candidate] = {}
    word_counts: Counter[str] = Counter()
    position = 0
    for run in title_runs + [_trim_verb_start(run) for run in _runs(abstract)]:
        word_counts.update(stem(w) for w in run)
        if not run or len(run) > MAX_WORDS:
            position += max(1, len(run))
            continue
        words = tuple(run)
        if len(words) == 1:
            acronym = _acronym_key(words[0])
            if acronym and acronym in definitions:
                key = definitions[acronym]  # "LLMs" counts for "large language models"
                if key in candidates:
                    candidates[key].count += 1
                    position += 1
                    continue
        key = tuple(stem(w) for w in words)
        candidate = candidates.get(key)
        if candidate is None:
            candidates[key] = _Candidate(words, 1, position, key in title_keys)
        else:
            candidate.count += 1
            if _capitals(words) < _capitals(candidate.words):
                candidate.words = words  # show the plainest form ("Pre-Training" -> "pre-training")
        position += len(run)
    scored = []
    total = max(position, 1)
    unique = getattr(idf, "unique", None)
    for key, candidate in candidates.items():
        text = " ".join(candidate.words)
        if len(text) > MAX_PHRASE_CHARS or len(text) < 2:
            continue
        if len(key) == 1 and (key[0] in _GENERIC or len(key[0]) < 3):
            continue
        if len(key) == 1 and unique is not None and unique(key[0]):
            continue  # the paper's own name: its chip would find only this paper
        # Each word's count in this paper times the square root of its corpus IDF: rarity
        # marks a topic, but a word the paper keeps using is central even when the field
        # uses it too ("reinforcement learning"); a full IDF favours one-off rare words.
        weights = [word_counts[k] * (math.sqrt(idf(k)) if idf is not None else 1.0)
                   for k in key]
        specificity = sum(weights) / len(weights)
        length_factor = LENGTH_FACTOR.get(len(key), 0.9)
        frequency = 1.0 + math.log(candidate.count)
        early = 1.0 + 0.5 * (1.0 - candidate.first / total)
        title_bonus = 1.6 if candidate.in_title else (
            1.15 if any(k in title_stems for k in key) else 1.0)
        defined = 1.3 if key in definitions.values() else 1.0
        score = specificity * length_factor * frequency * early * title_bonus * defined
        scored.append((score, candidate.first, key, text))
    scored.sort(key=lambda item: (-item[0], item[1]))
    pool = [_Choice(score, key, text) for score, _, key, text in scored[: max_phrases * 6]]
    chosen: list[str] = []
    used: set[str] = set()
    while pool and len(chosen) < max_phrases:
        best = max(pool, key=lambda c: c.score * (1.0 - REPEAT_PENALTY * c.shared(used)))
        chosen.append(_display(best.text))
        used |= best.stems
        pool = [c for c in pool if c is not best and not c.repeats(best)]
    return chosen


@dataclass(slots=True)
class _Choice:
    score: float
    key: tuple[str, ...]
    text: str
    stems: set[str] = None  # type: ignore[assignment]
    padded: str = ""

    def __post_init__(self) -> None:
        self.stems = set(self.key)
        self.padded = f" {' '.join(self.key)} "

    def shared(self, used: set[str]) -> float:
        return len(self.stems & used) / len(self.stems)

    def repeats(self, other: _Choice) -> bool:
        """The same stems as a chosen phrase, or one phrase inside the other."""
        return (self.stems == other.stems or self.padded in other.padded
                or other.padded in self.padded)


def _capitals(words: Sequence[str]) -> int:
    return sum(c.isupper() for w in words for c in w)


_VERB_SUFFIX = re.compile(r"(?:is|iz|if|at)(?:e|es|ed|ing)$|ify$|ing$")


def _trim_verb_start(run: list[str]) -> list[str]:
    """Drop leading verb forms the verb list misses ("slashing", "parallelise", "clarify").

    Title runs are not trimmed: a title's gerund is usually a name ("Streaming ...").
    """
    start = 0
    while start < len(run):
        lower = run[start].lower()
        if lower in _NOUN_LIKE or not lower.isalpha() or not _VERB_SUFFIX.search(lower):
            break
        if lower.endswith(("ate", "ates")) and not lower.endswith(("iate", "ated", "ating")):
            break  # "candidate", "state", "rate" are nouns
        start += 1
    return run[start:]


def _display(text: str) -> str:
    """Lower-case ordinary capitalised words ("Large Language Models"); keep names and acronyms."""
    words = text.split()
    out = []
    for word in words:
        parts = word.split("-")
        if all(p[:1].isupper() and (p[1:].islower() or not p[1:]) and p.isalpha() for p in parts):
            out.append(word.lower())
        else:
            out.append(word)
    return " ".join(out)


class CorpusIdf:
    """idf(word) over a corpus, from a document-frequency lookup keyed by the index's terms.

    `analyze` turns one of this module's light stems into the index's terms (e.g. Porter
    stems); an unknown word gets the IDF of a word seen in one document. `unique(word)`
    tells a word found in at most UNIQUE_DF papers: for a one-word phrase, usually the
    paper's own name, which makes a poor browsing chip (its search finds only this paper).
    """

    UNIQUE_DF = 2

    def __init__(self, doc_freq: Callable[[str], int], n_docs: int, *,
                 analyze: Callable[[str], Sequence[str]]) -> None:
        self.n_docs = n_docs
        self._doc_freq = doc_freq
        self._analyze = analyze
        self._unique_idf = math.log(1.0 + n_docs / self.UNIQUE_DF) if n_docs > 0 else math.inf
        self._cache: dict[str, float] = {}

    def __call__(self, word: str) -> float:
        found = self._cache.get(word)
        if found is None:
            if self.n_docs <= 0:
                return 1.0
            terms = list(self._analyze(word)) or [word]
            df = max(1, min(self._doc_freq(t) for t in terms))
            found = math.log(1.0 + self.n_docs / df)
            if len(self._cache) < 200_000:
                self._cache[word] = found
        return found

    def unique(self, word: str) -> bool:
        return self.n_docs >= 100 and self(word) >= self._unique_idf


def idf_from_frequencies(
    doc_freq: Callable[[str], int], n_docs: int, *, analyze: Callable[[str], Sequence[str]]
) -> CorpusIdf:
    """See CorpusIdf."""
    return CorpusIdf(doc_freq, n_docs, analyze=analyze)
