"""A counting SMTP sink for benchmarks: `python smtp_count_sink.py PORT`.

Accepts every mail on 127.0.0.1:PORT, keeps only a count per recipient, and on
SIGTERM prints {"messages": N, "recipients": R, "duplicates": D} as JSON.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections import Counter

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self) -> None:
        self.per_recipient: Counter[str] = Counter()
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        for rcpt in envelope.rcpt_tos:
            self.per_recipient[rcpt.lower()] += 1
        return "250 2.0.0 Accepted"


def main() -> None:
    port = int(sys.argv[1])
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    controller.stop()
    counts = handler.per_recipient
    print(json.dumps({"messages": handler.messages, "recipients": len(counts),
                      "duplicates": sum(c - 1 for c in counts.values() if c > 1)}), flush=True)


if __name__ == "__main__":
    main()
