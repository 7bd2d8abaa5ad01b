"""The OpenAI-compatible summary client against a local server (no mocks)."""

from __future__ import annotations

import threading

import pytest

from paperwire.llm.chat_summarizer import (
    ChatSettings,
    ChatSummarizer,
    SummaryFailed,
    clean_summary,
)
from tests.enrichment.chat_server import MODEL, ChatServer

ABSTRACT = "We propose a method for fast decoding of large language models with drafts."
GOOD = "A drafting scheme speeds up decoding of large language models without quality loss."


@pytest.fixture
def server():
    with ChatServer() as chat:
        yield chat


def client(server, **overrides) -> ChatSummarizer:
    values = {"url": server.url, "model": MODEL, "api_key": "sk-local", "timeout_s": 2.0,
              "retries": 2, "backoff_s": 0.01, "max_wait_s": 0.05, "concurrency": 2}
    values.update(overrides)
    return ChatSummarizer(ChatSettings(**values))


def test_a_recorded_completion_becomes_one_sentence(server):
    server.script.append(("ok", f"Summary: {GOOD} It also works on code."))
    with client(server) as summarizer:
        assert summarizer.summarize("Fast Decoding", ABSTRACT) == GOOD
    request = server.requests[0]
    assert request["model"] == MODEL and request["stream"] is False
    assert request["messages"][0]["role"] == "system"
    assert "Fast Decoding" in request["messages"][1]["content"]
    assert server.headers[0]["Authorization"] == "Bearer sk-local"


def test_429_and_500_are_retried_then_succeed(server):
    server.script.extend([("status", 429, {"Retry-After": "0"}), ("status", 500), ("ok", GOOD)])
    with client(server) as summarizer:
        assert summarizer.summarize("T", ABSTRACT) == GOOD
    assert len(server.requests) == 3


def test_junk_answers_fail_after_the_retries(server):
    server.script.extend([("junk",), ("junk", '{"choices": []}'), ("ok", "  ")])
    with client(server) as summarizer, pytest.raises(SummaryFailed) as failed:
        summarizer.summarize("T", ABSTRACT)
    assert "not one usable sentence" in str(failed.value)
    assert len(server.requests) == 3


def test_a_stalled_server_times_out(server):
    server.script.append(("stall",))
    with client(server, timeout_s=0.3, retries=0) as summarizer, \
            pytest.raises(SummaryFailed, match="no answer within 0.3 s"):
        summarizer.summarize("T", ABSTRACT)


def test_a_wrong_model_is_not_retried(server):
    server.script.append(("status", 404))
    with client(server) as summarizer, pytest.raises(SummaryFailed, match="HTTP 404"):
        summarizer.summarize("T", ABSTRACT)
    assert len(server.requests) == 1


def test_a_server_that_is_down_fails_cleanly():
    with ChatServer() as down:
        url = down.url
    summarizer = ChatSummarizer(ChatSettings(url=url, model=MODEL, timeout_s=1, retries=1,
                                             backoff_s=0.01))
    with summarizer, pytest.raises(SummaryFailed, match="could not connect"):
        summarizer.summarize("T", ABSTRACT)


def test_summarize_many_keeps_order_and_the_concurrency_limit(server):
    gate = threading.Event()
    server.script.extend([("gate", gate, f"Answer number {i} is a fine sentence.")
                          for i in range(3)])
    server.script.append(("status", 400))
    with client(server, concurrency=2, retries=0) as summarizer:
        timer = threading.Timer(0.2, gate.set)
        timer.start()
        results = summarizer.summarize_many([("T", ABSTRACT)] * 4)
        timer.cancel()
    texts = [r for r in results if isinstance(r, str)]
    failures = [r for r in results if isinstance(r, SummaryFailed)]
    assert len(texts) == 3 and len(failures) == 1
    assert server.max_in_flight <= 2


def test_settings_need_a_url_and_a_model():
    with pytest.raises(ValueError, match="URL and a model"):
        ChatSummarizer(ChatSettings(url="http://127.0.0.1:9/v1", model=""))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("<think>hmm</think> **X** improves Y by a lot in every case.",
         "X improves Y by a lot in every case."),
        ('"Quoted answers lose their quotes, as they should."',
         "Quoted answers lose their quotes, as they should."),
        ("Too short.", None),
        ("word " * 90, None),
        ("", None),
    ],
)
def test_clean_summary(answer, expected):
    assert clean_summary(answer) == expected
