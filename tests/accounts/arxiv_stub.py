"""A local arXiv API stand-in on 127.0.0.1: Atom answers for known ids, 503 on demand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

FEED_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom">'
    "<title>arXiv Query</title><opensearch:totalResults>{total}</opensearch:totalResults>"
)


def atom_entry(paper_id: str, title: str, authors: list[str], published: datetime) -> str:
    stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    names = "".join(f"<author><name>{escape(a)}</name></author>" for a in authors)
    return (
        f"<entry><id>http://arxiv.org/abs/{paper_id}v1</id><updated>{stamp}</updated>"
        f"<published>{stamp}</published><title>{escape(title)}</title>"
        f"<summary>An abstract about {escape(title)}.</summary>{names}"
        '<arxiv:primary_category term="cs.CL"/><category term="cs.CL"/></entry>'
    )


class ArxivStub:
    """Serve papers registered with `add`; ids listed in `failing` get HTTP 503."""

    def __init__(self) -> None:
        self.papers: dict[str, tuple[str, list[str], datetime]] = {}
        self.failing: set[str] = set()
        self.requests = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                stub.requests += 1
                query = parse_qs(urlsplit(self.path).query)
                ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
                if any(i in stub.failing for i in ids):
                    self.send_response(503)
                    self.end_headers()
                    return
                entries = [atom_entry(i, *stub.papers[i]) for i in ids if i in stub.papers]
                body = (
                    FEED_HEAD.format(total=len(entries)) + "".join(entries) + "</feed>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/query"

    def add(
        self,
        paper_id: str,
        title: str,
        authors: list[str] | None = None,
        published: datetime | None = None,
    ) -> None:
        self.papers[paper_id] = (title, authors or ["Ada Lovelace"], published or datetime.now(UTC))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
