"""One-sentence paper summaries through any OpenAI-compatible chat-completions endpoint.

A local llama.cpp, vLLM or Ollama server, or a hosted service: `POST {url}/chat/completions`
with the model name and an optional bearer key. Every request has a timeout; 429, 5xx,
timeouts, refused connections and junk answers (not JSON, no text, not one sentence) are
retried with exponential backoff and jitter, honouring `Retry-After`; at most
`concurrency` requests run at once. A paper whose attempts all fail gets a
`SummaryFailed` (never an exception out of `summarize_many`), so the caller keeps the
extracted summary and retries later.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_ABSTRACT_CHARS = 6_000
MIN_WORDS, MAX_WORDS = 5, 70

SYSTEM_PROMPT = (
    "You summarise research papers. Answer with exactly one plain sentence of at most 35 "
    "words that states what the paper contributes and why it matters. No preamble, no "
    "quotes, no Markdown, no first person."
)


class SummaryFailed(Exception):
    """No usable summary came back; the message says why (one line)."""


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ChatSettings:
    url: str
    model: str
    api_key: str = ""
    timeout_s: float = 60.0
    retries: int = 2
    backoff_s: float = 2.0
    max_wait_s: float = 60.0
    concurrency: int = 4


class ChatSummarizer:
    """Summaries from a chat-completions endpoint; thread-safe, one httpx.Client."""

    def __init__(self, settings: ChatSettings, *, user_agent: str = "Paperwire",
                 transport: httpx.BaseTransport | None = None) -> None:
        if not settings.url or not settings.model:
            raise ValueError("the summary endpoint needs both a URL and a model name")
        self.settings = settings
        self.model = settings.model
        headers = {"User-Agent": user_agent, "Content-Type": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        self._client = httpx.Client(
            headers=headers, transport=transport,
            timeout=httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s)),
            limits=httpx.Limits(max_connections=max(1, settings.concurrency)),
        )
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))
        self._endpoint = settings.url.rstrip("/") + "/chat/completions"

    def describe(self) -> str:
        return f"{self.model} at {self.settings.url}"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ChatSummarizer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def summarize_many(self, papers: Sequence[tuple[str, str]]) -> list[str | SummaryFailed]:
        """One result per (title, abstract), in order: a sentence or a SummaryFailed."""
        def one(item: tuple[str, str]) -> str | SummaryFailed:
            try:
                return self.summarize(*item)
            except SummaryFailed as exc:
                return exc

        if not papers:
            return []
        workers = max(1, min(self.settings.concurrency, len(papers)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="summary") as pool:
            return list(pool.map(one, papers))

    def summarize(self, title: str, abstract: str) -> str:
        """A one-sentence summary, or SummaryFailed after every retry."""
        abstract = " ".join((abstract or "").split())[:MAX_ABSTRACT_CHARS]
        if not abstract:
            raise SummaryFailed("the paper has no abstract to summarise")
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Title: {' '.join(title.split())}\n\n"
                                            f"Abstract: {abstract}"},
            ],
            "temperature": 0.2,
            "max_tokens": 120,
            "stream": False,
        }
        last = "no attempt was made"
        for attempt in range(self.settings.retries + 1):
            try:
                with self._slots:
                    return self._attempt(body)
            except _Retry as exc:
                last = str(exc)
                if attempt == self.settings.retries:
                    break
                time.sleep(self._delay(attempt, exc.retry_after))
        raise SummaryFailed(f"{self.describe()}: {last}")

    def _attempt(self, body: dict) -> str:
        try:
            response = self._client.post(self._endpoint, json=body)
        except httpx.TimeoutException:
            raise _Retry(f"no answer within {self.settings.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise _Retry(f"could not connect ({type(exc).__name__})") from None
        if response.status_code in RETRYABLE_STATUS:
            raise _Retry(f"HTTP {response.status_code}",
                         _retry_after(response.headers.get("Retry-After")))
        if response.status_code >= 400:
            # 400/401/404: a wrong model name or key; retrying now will not help.
            raise SummaryFailed(f"{self.describe()}: HTTP {response.status_code} "
                                f"{_error_message(response)}")
        try:
            payload = response.json()
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Retry("the answer was not a chat completion") from None
        sentence = clean_summary(content if isinstance(content, str) else "")
        if sentence is None:
            raise _Retry("the answer was not one usable sentence")
        return sentence

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.max_wait_s)
        base = self.settings.backoff_s * (2 ** attempt)
        return min(base * (0.5 + random.random()), self.settings.max_wait_s)


_PREAMBLE = re.compile(r"^\s*(?:summary|tl;?dr|one[- ]sentence summary)\s*[:\-–]\s*", re.I)
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)


def clean_summary(text: str) -> str | None:
    """The model's answer as one sentence, or None when it is not usable."""
    text = _THINK.sub(" ", text or "")
    text = " ".join(text.replace("**", "").split())
    text = _PREAMBLE.sub("", text).strip().strip('"“”').strip()
    if not text:
        return None
    from paperwire.domain.summaries import split_sentences

    sentences = split_sentences(text)
    if not sentences:
        return None
    sentence = sentences[0]
    words = len(sentence.split())
    if words < MIN_WORDS or words > MAX_WORDS or "\ufffd" in sentence:
        return None
    if sentence[-1] not in ".!?":
        sentence += "."
    return sentence


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
        return str(message)[:200] if message else ""
    except (ValueError, AttributeError):
        return ""
