"""The in-memory BM25 ranker: same ranking as FTS5, kept in step with the database."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import delete, text, update

import paperwire.search.bm25 as bm25
from paperwire.config import load_settings
from paperwire.domain.records import SourceItem
from paperwire.search.bm25 import Bm25Index
from paperwire.search.query_parser import parse_query, to_fts5_match
from paperwire.search.text_analysis import Analyzer
from paperwire.services.ingest import ingest
from paperwire.store.db import is_sqlite
from paperwire.store.tables import papers
from paperwire.wiring import build_container
from tests.search.conftest import paper

WORDS = [
    "diffusion", "transformer", "transformers", "model", "models", "modelling", "graph", "neural",
    "network", "networks", "language", "vision", "speech", "planning", "agent", "agents", "reward",
    "policy", "optimization", "optimizer", "retrieval", "dense", "sparse", "token", "tokens",
    "attention", "kernel", "quantization", "benchmark", "robot", "the", "of", "and", "a", "in",
    "for", "with", "on", "is", "we", "our",
]


VOCABULARY = WORDS + [f"word{i}x" for i in range(400)]
ZIPF = [1 / (rank + 1) for rank in range(len(VOCABULARY))]


def random_papers(n: int, seed: int = 3):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        title = " ".join(rng.choices(VOCABULARY, ZIPF, k=rng.randint(3, 8)))
        abstract = " ".join(rng.choices(VOCABULARY, ZIPF, k=rng.randint(10, 60)))
        out.append(paper(f"2601.{i:05d}", title, abstract, authors=(f"Author {i % 17}",),
                         published_at=datetime(2026, 1, 1 + i % 28, tzinfo=UTC)))
    return out


def test_analyzer_matches_fts5_unicode61_porter():
    a = Analyzer()
    assert a.analyze("Running Transformers, generalization") == ["run", "transform", "gener"]
    assert a.analyze("Café naïve ÉCOLE") == ["cafe", "naiv", "ecol"]
    assert a.analyze("as is x_y 3D") == ["as", "is", "x", "y", "3d"]  # < 3 chars unstemmed


@pytest.mark.sqlite_only
def test_scores_and_ranking_equal_fts5_bm25(container):
    ingest(container.engine, [SourceItem(p) for p in random_papers(300)], source="t",
           parameters={})
    index = Bm25Index(container.engine)
    assert index.wait_ready()
    rng = random.Random(11)
    with container.engine.connect() as conn:
        for _ in range(60):
            query = parse_query(" ".join(rng.sample(VOCABULARY[:120], rng.randint(1, 4))))
            found, total = index.search(query.terms, 10, proximity=False)
            rows = conn.execute(
                text("SELECT papers.id, -bm25(papers_fts) FROM papers_fts JOIN papers "
                     "ON papers.rowid = papers_fts.rowid WHERE papers_fts MATCH :m "
                     "ORDER BY bm25(papers_fts) LIMIT 10"),
                {"m": to_fts5_match(query)},
            ).all()
            matched = conn.execute(
                text("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH :m"),
                {"m": to_fts5_match(query)},
            ).scalar_one()
            assert total == matched
            assert [s for _, s in found] == pytest.approx([s for _, s in rows], rel=1e-5)
            # The same papers, up to the order of ties at the cut-off score.
            cut = rows[-1][1] * (1 + 1e-5) if rows else 0
            assert {p for p, s in found if s > cut} == {p for p, s in rows if s > cut}


def test_repeated_words_count_each_time_and_candidates_keep_their_scores(container):
    """A repeated query word adds its BM25 score once per occurrence (query-by-example
    weights words so); a candidate list gives the same scores as the whole ranking."""
    ingest(container.engine, [SourceItem(p) for p in random_papers(300)], source="t",
           parameters={})
    index = Bm25Index(container.engine)
    assert index.wait_ready()
    everything = dict(index.search(["graph", "graph", "neural"], 300, proximity=False)[0])
    graph = dict(index.search(["graph"], 300, proximity=False)[0])
    neural = dict(index.search(["neural"], 300, proximity=False)[0])
    assert everything.keys() == graph.keys() | neural.keys()
    for pid, score in everything.items():
        assert score == pytest.approx(2 * graph.get(pid, 0.0) + neural.get(pid, 0.0), rel=1e-5)
    some = sorted(everything)[::3] + ["2601.99999", "no-such-paper"]
    found, total = index.search(["graph", "graph", "neural"], 5, candidates=some,
                                proximity=False)
    assert total == len(some) - 2
    best = sorted(((s, p) for p, s in everything.items() if p in some), reverse=True)[:5]
    assert [s for _, s in found] == pytest.approx([s for s, _ in best], rel=1e-6)
    assert index.search(["graph"], 5, candidates=[])[1] == 0


def test_new_and_changed_papers_are_searchable_at_once(seeded):
    index = seeded.keyword_index
    assert seeded.search.search("molecules", mode="keyword").hits
    assert index.ready
    ingest(seeded.engine, [SourceItem(paper(
        "2506.00006", "Protein folding with zebrafish data",
        "Zebrafish embryos give folding signals.", published_at=datetime(2025, 6, 1, tzinfo=UTC),
    ))], source="t", parameters={})
    hits = seeded.search.search("zebrafish", mode="keyword").hits
    assert [h.paper_id for h in hits] == ["2506.00006"]
    # A new arXiv version replaces the text: old words stop matching, new ones match.
    ingest(seeded.engine, [SourceItem(paper(
        "2506.00006", "Protein folding with axolotl data", "Axolotl embryos give folding signals.",
        version=2, published_at=datetime(2025, 6, 1, tzinfo=UTC),
    ))], source="t", parameters={})
    assert seeded.search.search("zebrafish", mode="keyword").hits == []
    assert [h.paper_id for h in seeded.search.search("axolotl", mode="keyword").hits] == [
        "2506.00006"
    ]
    assert "in-memory BM25 index: 6 papers" in index.describe()


def test_snapshot_loads_without_rebuilding_and_catches_up(seeded, tmp_path, monkeypatch):
    first = Bm25Index(seeded.engine, snapshot_dir=tmp_path / "kw")
    assert first.wait_ready() and first.wait_snapshots(30)
    assert (tmp_path / "kw" / "keyword-index.meta.json").is_file()
    ingest(seeded.engine, [SourceItem(paper("2507.00007", "Quokka census", "Counting quokkas."))],
           source="t", parameters={})

    def no_build(self):
        raise AssertionError("the snapshot should have been used")

    monkeypatch.setattr(Bm25Index, "_build", no_build)
    second = Bm25Index(seeded.engine, snapshot_dir=tmp_path / "kw")
    second.start()
    assert second.ready
    found, total = second.search(["quokka"], 5)
    assert [pid for pid, _ in found] == ["2507.00007"] and total == 1
    assert second.search(["molecules"], 5)[0][0][0] == "2502.00002"


def test_corrupt_snapshot_is_rebuilt(seeded, tmp_path):
    (tmp_path / "kw").mkdir()
    (tmp_path / "kw" / "keyword-index.meta.json").write_text("{not json")
    index = Bm25Index(seeded.engine, snapshot_dir=tmp_path / "kw")
    assert index.wait_ready()
    assert index.search(["molecules"], 5)[0][0][0] == "2502.00002"


def test_deleted_papers_trigger_a_rebuild(seeded, monkeypatch):
    monkeypatch.setattr(bm25, "FULL_CHECK_INTERVAL_S", 0.0)
    index = Bm25Index(seeded.engine)
    assert index.wait_ready()
    assert index.search(["molecules"], 5)[1] == 1
    with seeded.engine.begin() as conn:
        conn.execute(delete(papers).where(papers.c.id == "2502.00002"))
    index.refresh()  # notices 4 papers where it holds 5, rebuilds in the background
    assert index.wait_ready(timeout=30)
    assert index.search(["molecules"], 5) == ([], 0)


def test_margin_rereads_do_not_duplicate_papers(seeded):
    index = Bm25Index(seeded.engine)
    assert index.wait_ready()
    with seeded.engine.begin() as conn:  # touch a paper without changing its text
        conn.execute(update(papers).where(papers.c.id == "2502.00002")
                     .values(modified_at=datetime.now(UTC)))
    index.refresh()
    index.refresh()
    found, total = index.search(["molecules"], 5)
    assert total == 1 and len(found) == 1


def test_filters_and_paging_in_memory(seeded):
    assert seeded.keyword_index is not None
    page1 = seeded.search.search("transformers", mode="keyword", limit=2)
    page2 = seeded.search.search("transformers", mode="keyword", limit=2, offset=2)
    assert seeded.keyword_index.ready
    assert page1.total == page2.total == 4
    assert not {h.paper_id for h in page1.hits} & {h.paper_id for h in page2.hits}
    only_cl = seeded.search.search("transformers cat:cs.CL", mode="keyword")
    assert {h.paper_id for h in only_cl.hits} == {"2503.00003", "2505.00005"}
    assert only_cl.total == 2


def test_database_ranker_setting_gives_the_same_answers(seeded, settings):
    db_only = build_container(load_settings(
        data_dir=settings.data_dir, database_url=settings.database_url, embedder="none",
        keyword_ranker="database",
    ))
    try:
        assert db_only.keyword_index is None
        for query in ("transformers", "speech recognition", "molecules graph", "language"):
            memory = seeded.search.search(query, mode="keyword")
            database = db_only.search.search(query, mode="keyword")
            assert {h.paper_id for h in memory.hits} == {h.paper_id for h in database.hits}
            assert memory.total == database.total
            if is_sqlite(seeded.engine) and " " not in query:  # BM25 alike; no word pairs
                assert [h.paper_id for h in memory.hits] == [h.paper_id for h in database.hits]
    finally:
        db_only.close()


def test_invalid_ranker_setting_is_refused():
    with pytest.raises(ValueError, match="(?i)keyword_ranker"):  # names the setting
        load_settings(keyword_ranker="elasticsearch")


def test_adjacent_query_words_rank_first(container):
    """Term proximity: the paper where the query words stand together wins a BM25 tie."""
    ingest(container.engine, [SourceItem(p) for p in [
        paper("2601.00001", "Neural radiance fields", "We fit neural radiance fields to photos."),
        paper("2601.00002", "Fields of radiance", "Neural codes for radiance in wheat fields."),
        paper("2601.00003", "Unrelated", "Protein folding."),
    ]], source="t", parameters={})
    index = Bm25Index(container.engine)
    assert index.wait_ready()
    plain, total = index.search(["neural", "radiance", "fields"], 2, proximity=False)
    ranked, same_total = index.search(["neural", "radiance", "fields"], 2)
    assert total == same_total == 2
    assert ranked[0][0] == "2601.00001"
    assert ranked[0][1] > dict(plain)["2601.00001"]  # the pairs added to its BM25 score
    assert ranked[1][1] == pytest.approx(dict(plain)["2601.00002"])  # no adjacent pair there
    # A paper added after the build (in the tail) gets the same bonus.
    ingest(container.engine, [SourceItem(paper(
        "2601.00004", "Neural radiance fields again", "Neural radiance fields, once more."
    ))], source="t", parameters={})
    tail_hits, _ = index.search(["neural", "radiance", "fields"], 3)
    assert tail_hits[0][0] == "2601.00004"


def test_a_search_during_the_first_background_build_waits_for_it(seeded, monkeypatch):
    import threading

    monkeypatch.setattr(bm25, "SYNC_BUILD_MAX", 0)  # as for a big database: build in a thread
    build, wait_ready = Bm25Index._build, Bm25Index.wait_ready
    searching = threading.Event()

    def held_build(self):  # still running when the search arrives: it ends only then
        assert searching.wait(30)
        return build(self)

    def search_waits(self, timeout=None):
        searching.set()
        return wait_ready(self, timeout)

    monkeypatch.setattr(Bm25Index, "_build", held_build)
    monkeypatch.setattr(Bm25Index, "wait_ready", search_waits)
    index = Bm25Index(seeded.engine)
    seeded.search.keyword.ranker = index
    assert not index.ready
    results = seeded.search.search("molecules", mode="keyword")
    assert index.ready and searching.is_set()
    assert [h.paper_id for h in results.hits] == ["2502.00002"]


def test_a_bulk_import_is_merged_by_a_background_rebuild(seeded):
    index = Bm25Index(seeded.engine, tail_merge_docs=3)
    assert index.wait_ready()
    ingest(seeded.engine, [SourceItem(paper(f"2510.{i:05d}", f"Bulk capybara {i}", "Capybaras."))
                           for i in range(5)], source="t", parameters={})
    index.refresh()  # 5 changed papers > 3: a rebuild, not a tail
    assert index.wait_ready(timeout=30)
    found, total = index.search(["capybara"], 10)
    assert total == 5 and len(index._state.tail_ids) == 0
    assert "in-memory BM25 index: 10 papers" in index.describe()


def test_papers_imported_just_before_a_build_do_not_cause_rebuilds(seeded, tmp_path, monkeypatch):
    """Every paper of a bulk import sits inside the re-check margin of a build that follows
    it at once; neither a later look nor a restart from the snapshot may take them for
    changes (that once rebuilt the index on every start)."""
    ingest(seeded.engine, [SourceItem(paper(f"2510.{i:05d}", f"Bulk capybara {i}", "Capybaras."))
                           for i in range(6)], source="t", parameters={})
    index = Bm25Index(seeded.engine, snapshot_dir=tmp_path / "kw", tail_merge_docs=3)
    assert index.wait_ready() and index.wait_snapshots(30)
    rebuilds = []
    monkeypatch.setattr(Bm25Index, "_schedule_rebuild", lambda self: rebuilds.append(1))
    with seeded.engine.begin() as conn:  # a vote: newest modified_at moves, no text changes
        conn.execute(update(papers).where(papers.c.id == "2502.00002")
                     .values(modified_at=datetime.now(UTC)))
    index.refresh()
    restarted = Bm25Index(seeded.engine, snapshot_dir=tmp_path / "kw", tail_merge_docs=3)
    restarted.start()
    restarted.refresh()
    assert rebuilds == []
    assert restarted.search(["capybara"], 10)[1] == 6


def test_a_write_committed_after_a_read_that_began_later_is_still_found(seeded):
    """A transaction that set modified_at before a read began but committed after it."""
    index = Bm25Index(seeded.engine)
    assert index.wait_ready()
    ingest(seeded.engine, [SourceItem(paper("2511.00001", "Late wombat", "Wombats."))],
           source="t", parameters={})
    with seeded.engine.begin() as conn:  # as if stamped 60 s before the index's last read
        conn.execute(update(papers).where(papers.c.id == "2511.00001")
                     .values(modified_at=index._read_at - bm25.RECHECK_MARGIN / 2))
    ingest(seeded.engine, [SourceItem(paper("2511.00002", "Prompt wombat", "Wombats."))],
           source="t", parameters={})  # a later write moves the newest modified_at
    found = {pid for pid, _ in index.search(["wombat"], 5)[0]}
    assert found == {"2511.00001", "2511.00002"}


def test_a_search_during_a_snapshot_write_returns_correct_results(seeded, tmp_path):
    """The snapshot writer is held inside its write (file lock taken); searches, and
    a catch-up with a new paper, are answered meanwhile; then one snapshot is left."""
    from tests.snapshot_writes import hold_snapshot_writes

    index = Bm25Index(seeded.engine, snapshot_dir=tmp_path / "kw", tail_merge_docs=3)
    assert index.wait_ready() and index.wait_snapshots(30)
    writing, release = hold_snapshot_writes(index._snapshots)
    ingest(seeded.engine, [SourceItem(paper(f"2512.{i:05d}", f"Okapi herd {i}", "Okapis."))
                           for i in range(5)], source="t", parameters={})
    index.refresh()  # 5 > 3 changed papers: a background rebuild, then its snapshot
    try:
        assert writing.wait(30)  # the rebuilt state is installed; its snapshot is being written
        found, total = index.search(["okapi"], 10)
        assert total == 5 and {pid for pid, _ in found} == {f"2512.{i:05d}" for i in range(5)}
        assert index.search(["molecules"], 5)[0][0][0] == "2502.00002"
        ingest(seeded.engine, [SourceItem(paper("2512.00099", "Lone okapi", "Okapis."))],
               source="t", parameters={})
        assert index.search(["okapi"], 10)[1] == 6  # catch-ups go on too
    finally:
        release.set()
    assert index.wait_snapshots(30)
    assert len(index._snapshots.snapshot_folders()) == 1
    restarted = Bm25Index(seeded.engine, snapshot_dir=tmp_path / "kw")
    restarted.start()
    assert restarted.search(["okapi"], 10)[1] == 6


def test_a_deletion_committed_here_is_seen_by_the_next_search(seeded):
    """Deleting papers moves no modified_at; the change event names them."""
    from paperwire.store.events import PapersChanged, record

    index = Bm25Index(seeded.engine)
    assert index.wait_ready()
    assert index.search(["molecules"], 5)[1] == 1
    with seeded.engine.begin() as conn:
        conn.execute(delete(papers).where(papers.c.id == "2502.00002"))
        record(conn, PapersChanged.of(["2502.00002"]))
    assert index.search(["molecules"], 5) == ([], 0)  # no count check, no rebuild needed
    assert index._build_thread is None


def test_example_scores_of_other_papers_come_from_the_same_query(container):
    """Query-by-example's keyword pool and the keyword scores of the dense side's papers
    (one analysis of the examples) equal two separate example searches."""
    from paperwire.search.keyword import KeywordSearcher

    ingest(container.engine, [SourceItem(p) for p in random_papers(300)], source="t",
           parameters={})
    index = Bm25Index(container.engine)
    assert index.wait_ready()
    searcher = KeywordSearcher(container.engine, index)
    texts = ["graph neural network attention kernel", "sparse retrieval with dense tokens"]
    others = [f"2601.{i:05d}" for i in range(0, 300, 7)]
    found, scores = searcher.search_example_with(texts, limit=10, also=others)
    assert found == searcher.search_example(texts, limit=10)
    separate = searcher.search_example(texts, limit=len(others), candidates=others)
    assert scores == {h.paper_id: h.score for h in separate}
    assert scores and set(scores) <= set(others)



def test_term_view_counts_segment_and_tail_papers_and_lasts_as_long_as_the_state(container):
    """For-you's raw material: each paper's words as term ids of one vocabulary (stopwords
    left out), their document frequencies, and the same object until the index changes."""
    ingest(container.engine, [SourceItem(p) for p in [
        paper("2601.00001", "Neural radiance fields for view synthesis", ""),
        paper("2601.00002", "Neural radiance fields with hash grids", ""),
    ]], source="t", parameters={})
    index = Bm25Index(container.engine)
    assert index.wait_ready()
    skip = frozenset({"for", "with"})
    view = index.term_view(skip=skip)
    assert index.term_view(skip=skip) is view  # nothing changed: the same view
    found, seqs = view.sequences(["2601.00001", "2699.99999", "2601.00002"])
    assert found == ["2601.00001", "2601.00002"]
    assert [view.stems[t] for t in seqs[0]] == ["neural", "radianc", "field", "view", "synthesi"]
    term = {stem: i for i, stem in enumerate(view.stems)}
    assert view.df[term["radianc"]] == 2 and view.df[term["hash"]] == 1 and view.n_docs == 2

    def pair_df(v, a: str, b: str) -> int:
        ids = {stem: i for i, stem in enumerate(v.stems)}
        key = ids[a] * v.n_terms + ids[b]
        at = min(int(np.searchsorted(v.pair_keys, key)), len(v.pair_keys) - 1)
        return int(v.pair_df[at]) if v.pair_keys[at] == key else 1

    # "fields for view": with the stopword left out, "field view" is the adjacent pair.
    assert pair_df(view, "neural", "radianc") == 2 and pair_df(view, "field", "view") == 1
    # A paper added after the build sits in the tail, with a word no segment paper has.
    ingest(container.engine, [SourceItem(paper(
        "2601.00003", "Quantum radiance fields", ""))], source="t", parameters={})
    later = index.term_view(skip=skip)
    assert later is not view and index._state.tail_ids == ("2601.00003",)
    (_, [seq]) = later.sequences(["2601.00003"])
    assert [later.stems[t] for t in seq] == ["quantum", "radianc", "field"]
    term = {stem: i for i, stem in enumerate(later.stems)}
    assert later.n_terms == view.n_terms + 1 and term["quantum"] == view.n_terms
    assert later.df[term["radianc"]] == 3 and later.df[term["quantum"]] == 1
    assert later.n_docs == 3
    assert pair_df(later, "neural", "radianc") == 2  # the pair table, keyed for the new size


def test_another_process_write_is_found_and_an_unchanged_database_is_not_asked(seeded):
    """Papers written through another engine (as another process would: its commits
    publish no event here) are found by the next search; while nothing is written, a
    SQLite index asks its data version only, not the papers table."""
    from sqlalchemy import event

    from paperwire.store.db import create_db_engine

    index = Bm25Index(seeded.engine)
    assert index.wait_ready()
    looks = []

    @event.listens_for(seeded.engine, "before_cursor_execute")
    def count_looks(conn, cursor, statement, *args):
        if "max(papers.modified_at)" in statement:
            looks.append(statement)

    assert index.search(["molecules"], 5)[1] == 1
    before = len(looks)
    for _ in range(3):
        assert index.search(["molecules"], 5)[1] == 1
    assert len(looks) - before == (0 if is_sqlite(seeded.engine) else 3)
    other = create_db_engine(str(seeded.engine.url.render_as_string(hide_password=False)))
    try:
        ingest(other, [SourceItem(paper("2511.00009", "Distant quokka", "Quokkas."))],
               source="t", parameters={})
    finally:
        other.dispose()
    assert [pid for pid, _ in index.search(["quokka"], 5)[0]] == ["2511.00009"]
