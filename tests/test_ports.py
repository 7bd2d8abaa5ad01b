"""Ports wired once: `wiring.Container` is the only code that names an adapter class or
builder; its fields are typed with the Protocols in `ports.py`; and every adapter wired
into a port has every member the port declares (so no caller needs isinstance/hasattr)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import paperwire
from paperwire import ports, wiring
from paperwire.mail.transport import OutboxMailer, SmtpMailer
from paperwire.search.bm25 import Bm25Index
from paperwire.search.pgvector import PgVectorIndex
from paperwire.search.vectors import VectorIndex
from paperwire.services.background import JobRunner
from paperwire.services.search import SearchService

SRC = Path(paperwire.__file__).parent
# Adapter classes and the functions that build them: only wiring.py (and the adapters'
# own modules) may name them.
ADAPTERS = {
    "Bm25Index", "PgVectorIndex", "build_vector_index", "OutboxMailer", "SmtpMailer",
    "build_mailer", "JobRunner", "OnnxEmbedder", "SentenceTransformerEmbedder",
    "build_embedder", "fetch_arxiv_papers",
}
CALLERS = ("services", "web", "cli", "worker.py", "mcp_server.py")


def _imported_names(path: Path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(), str(path))
    return {(node.module or "", alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_services_routes_and_commands_never_import_an_adapter():
    files = [p for c in CALLERS for p in ((SRC / c).rglob("*.py") if (SRC / c).is_dir()
                                          else [SRC / c])]
    assert len(files) > 50
    offenders = sorted(
        f"{path.relative_to(SRC)}: {module}.{name}"
        for path in files
        for module, name in _imported_names(path)
        if name in ADAPTERS or (module == "paperwire.search.vectors" and name == "VectorIndex")
    )
    assert offenders == []


def test_the_container_fields_are_typed_with_the_ports():
    annotations = {
        name: getattr(wiring.Container, name).func.__annotations__["return"]
        for name in ("keyword_index", "vector_index", "search", "mailer", "paper_fetcher",
                     "jobs")
    }
    assert annotations == {
        "keyword_index": "KeywordIndex | None",
        "vector_index": "VectorIndex | None",
        "search": "PaperSearch",
        "mailer": "Mailer",
        "paper_fetcher": "PaperFetcher",
        "jobs": "JobService",
    }
    from_ports = {name for module, name in _imported_names(SRC / "wiring.py")
                  if module == "paperwire.ports"}
    assert {"KeywordIndex", "VectorIndex", "PaperSearch", "Mailer", "PaperFetcher",
            "JobService"} <= from_ports


def _members(protocol: type) -> dict[str, object]:
    names = {n for n in dir(protocol) if not n.startswith("_")}
    names |= set(getattr(protocol, "__annotations__", {}))
    return {n: getattr(protocol, n, None) for n in names}


@pytest.mark.parametrize(("protocol", "adapter"), [
    (ports.KeywordIndex, Bm25Index),
    (ports.VectorIndex, VectorIndex),
    (ports.VectorIndex, PgVectorIndex),
    (ports.PaperSearch, SearchService),
    (ports.Mailer, SmtpMailer),
    (ports.Mailer, OutboxMailer),
    (ports.JobService, JobRunner),
])
def test_each_adapter_has_what_its_port_declares(protocol, adapter):
    assigned = inspect.getsource(adapter.__init__)  # data attributes are set in __init__
    for name, member in _members(protocol).items():
        if callable(member):
            assert callable(getattr(adapter, name, None)), f"{adapter.__name__}.{name}"
            declared = inspect.signature(member).parameters
            offered = inspect.signature(getattr(adapter, name)).parameters
            missing = [p for p in declared if p not in offered]
            assert missing == [], f"{adapter.__name__}.{name} lacks {missing}"
        else:
            assert hasattr(adapter, name) or f"self.{name} =" in assigned or (
                f"self.{name}:" in assigned), f"{adapter.__name__}.{name}"
