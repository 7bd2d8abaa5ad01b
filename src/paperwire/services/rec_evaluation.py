"""The recommendation harness behind `paperwire eval-rec`: readers' libraries as queries.

A folder holds `corpus.jsonl(.gz)` (`{_id, title, text, date}`), `users.jsonl`
(`{_id, cutoff, library: [ids]}`) and `qrels/test.tsv` (the papers each reader went on to
want). The corpus goes through the product's import (and, for modes that need vectors,
`embed_missing` with the same content-hash cache as `paperwire eval`) into a database of
its own. For each reader the query is the K newest library papers (ties by id), and the
candidates are the corpus papers dated on or after the reader's cutoff, minus the library.

Modes are rankers in a small registry, so other recommenders (a personal "for you" feed)
plug in with `register_rec_mode`: a ranker takes the library's paper ids, the candidate
ids and the process's services, and returns candidate ids, best first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from paperwire.ports import PaperSearch
from paperwire.search.beir import Reader, parse_day, read_corpus, read_qrels, read_users
from paperwire.search.metrics import score_run
from paperwire.services.evaluation import EvalReport, Progress, index_folder, internal_id
from paperwire.wiring import Container

REC_DEPTH = 100  # R@100 needs the best 100


@dataclass(frozen=True)
class RecServices:
    """What a ranker may use: the process's adapters and the search service."""

    container: Container
    search: PaperSearch


# (library paper ids, candidate paper ids, services, how many to return) -> ids, best first
RecRanker = Callable[[Sequence[str], Sequence[str], RecServices, int], list[str]]


@dataclass(frozen=True)
class RecMode:
    name: str
    rank: RecRanker
    needs_embeddings: bool = True
    in_all: bool = True  # False for another name of a listed mode (`all` runs it once)


REC_MODES: dict[str, RecMode] = {}


def register_rec_mode(name: str, rank: RecRanker, *, needs_embeddings: bool = True,
                      in_all: bool = True) -> None:
    """Add (or replace) a ranker that `paperwire eval-rec --mode NAME` scores."""
    REC_MODES[name] = RecMode(name, rank, needs_embeddings, in_all)


def _query_by_example(mode: str) -> RecRanker:
    def rank(library: Sequence[str], candidates: Sequence[str], services: RecServices,
             depth: int) -> list[str]:
        hits = services.search.more_like(library, mode=mode, candidates=candidates, limit=depth)
        return [h.paper_id for h in hits]

    return rank


register_rec_mode("keyword", _query_by_example("keyword"), needs_embeddings=False)
register_rec_mode("semantic", _query_by_example("semantic"))
register_rec_mode("hybrid", _query_by_example("hybrid"))


def resolve_modes(mode: str) -> list[str]:
    """`all` is every listed mode, in registration order; `a,b` is those modes."""
    if mode == "all":
        return [m.name for m in REC_MODES.values() if m.in_all]
    names = list(dict.fromkeys(m.strip() for m in mode.split(",") if m.strip()))
    unknown = [m for m in names if m not in REC_MODES]
    if unknown or not names:
        listed = ", ".join(m.name for m in REC_MODES.values() if m.in_all)
        raise ValueError(f"unknown mode {(unknown or [mode])[0]!r}: use {listed}, "
                         "several of them separated by commas, or all")
    return names


def newest_library(library: Iterable[str], days: dict[str, date | None],
                   size: int | None) -> list[str]:
    """The reader's `size` newest library papers in the corpus (ties: the larger id first);
    all of them when size is None. Papers the corpus does not hold are left out."""
    held = [pid for pid in dict.fromkeys(library) if pid in days]
    held.sort(key=lambda pid: (days[pid] or date.min, pid), reverse=True)
    return held if size is None else held[:size]


def evaluate_rec(
    container: Container,
    folder: Path,
    modes: Iterable[str],
    *,
    library_size: int | None,
    cache_dir: Path | None,
    progress: Progress | None = None,
) -> EvalReport:
    """Index `folder` into the container's (empty) database and score each mode."""
    modes = list(modes)
    for mode in modes:
        resolve_modes(mode)
    if library_size is not None and library_size < 1:
        raise ValueError("--library-size must be at least 1")
    readers = read_users(folder)
    qrels = {q: {d: 1 for d, g in rel.items() if g > 0} for q, rel in read_qrels(folder).items()}
    docs = list(read_corpus(folder))
    days = {internal_id(d.id): parse_day(d.date) for d in docs}
    ids = index_folder(container, docs, folder=folder, cache_dir=cache_dir, progress=progress,
                       embed=any(REC_MODES[m].needs_embeddings for m in modes))
    del docs
    report = EvalReport(docs=len(ids))
    services = RecServices(container, container.search)
    by_day = sorted((day, pid) for pid, day in days.items() if day is not None)
    judged = [r for r in readers if qrels.get(r.id)]
    queries = {r.id: newest_library((internal_id(x) for x in r.library), days, library_size)
               for r in judged}
    pools: dict[date, list[str]] = {}
    for mode in modes:
        run: dict[str, list[str]] = {}
        for i, reader in enumerate(judged, 1):
            candidates = _candidates(reader, by_day, pools)
            library = queries[reader.id]
            ranked = REC_MODES[mode].rank(library, candidates, services, REC_DEPTH) if (
                library and candidates) else []
            run[reader.id] = [ids.get(pid, pid) for pid in ranked[:REC_DEPTH]]
            if progress:
                progress(mode, i, len(judged))
        report.scores[mode] = score_run(run, {r.id: qrels[r.id] for r in judged})
    return report


def _candidates(reader: Reader, by_day: list[tuple[date, str]],
                pools: dict[date, list[str]]) -> list[str]:
    """Corpus papers dated on or after the reader's cutoff, minus their whole library."""
    pool = pools.get(reader.cutoff)
    if pool is None:
        pool = pools[reader.cutoff] = [pid for day, pid in by_day if day >= reader.cutoff]
    library = {internal_id(x) for x in reader.library}
    return [pid for pid in pool if pid not in library]


def _register_for_you() -> None:
    from paperwire.services.library.for_you_eval import register

    register(register_rec_mode)


_register_for_you()
