"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it accepts.

It can also misbehave on purpose: answer 4xx a few times, refuse some
recipients with 5xx, stall, or SIGKILL a process when the Nth mail arrives
(before accepting it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SinkBehaviour:
    temporary_failures: int = 0  # answer 451 to this many DATA commands first
    refuse: set[str] = field(default_factory=set)  # recipients refused with 550
    delay_s: float = 0.0  # stall before answering DATA
    stall: bool = False  # after the delay, answer 421 without keeping the mail
    kill_pid: int | None = None  # SIGKILL this process...
    kill_at: int = 0  # ...when the kill_at-th mail arrives (not accepted)


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.behaviour = SinkBehaviour()
        self.data_commands = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.behaviour.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_commands += 1
            arrived = self.data_commands
        b = self.behaviour
        if b.delay_s:
            await asyncio.sleep(b.delay_s)
            if b.stall:
                return "421 4.4.2 Timed out"
        if b.kill_pid and arrived == b.kill_at:
            os.kill(b.kill_pid, signal.SIGKILL)
            await asyncio.sleep(0.5)
            return "421 4.3.0 Sender went away"
        if b.temporary_failures > 0:
            b.temporary_failures -= 1
            return "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Accepted"


class SmtpSink:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=off&timeout=5"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def behaviour(self) -> SinkBehaviour:
        return self.handler.behaviour

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                break
            time.sleep(0.02)
        return self.messages

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
