"""A local OpenAI-compatible chat-completions server that plays a script of answers.

Each POST /v1/chat/completions takes the next step of the script: a recorded-shape
completion, an error status (429 with Retry-After, 500), junk, or a stall longer than the
client's timeout (released at shutdown, so no test waits on a sleep).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "qwen2.5-7b-instruct-q4_k_m"


def completion(content: str, model: str = MODEL) -> dict:
    """The shape llama.cpp, vLLM and OpenAI return for a non-streamed chat completion."""
    return {
        "id": "chatcmpl-9f2c1e7a",
        "object": "chat.completion",
        "created": 1764547200,
        "model": model,
        "system_fingerprint": "b4520-cpu",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 412, "completion_tokens": 37, "total_tokens": 449},
    }


class ChatServer:
    def __init__(self) -> None:
        self.script: deque = deque()
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                return None

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    step = server.script.popleft() if server.script else ("ok", "Default.")
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._play(step)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _play(self, step):
                kind = step[0]
                if kind == "ok":
                    self._send(200, json.dumps(completion(step[1])).encode())
                elif kind == "gate":  # answer once the test opens the gate
                    step[1].wait(10)
                    self._send(200, json.dumps(completion(step[2])).encode())
                elif kind == "status":
                    headers = step[2] if len(step) > 2 else {}
                    body = json.dumps({"error": {"message": "rate limited", "type": "x"}})
                    self._send(step[1], body.encode(), headers)
                elif kind == "junk":
                    self._send(200, step[1].encode() if len(step) > 1 else b"<html>oops")
                elif kind == "stall":
                    server.release.wait(30)
                    self._send(200, json.dumps(completion("Too late.")).encode())

            def _send(self, status, body, headers=None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
