"""An offline demo set written by the project, clearly marked as demo data.

Ids use the 0001.NNNN range: new-style arXiv ids began in 0704, so these can
never collide with a real paper.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from paperwire.domain.records import DailyEntryRecord, OrganizationRecord, PaperRecord, SourceItem

DEMO_SOURCE = "demo"

_TOPICS = [
    ("Sparse Mixture-of-Experts Routing for Long-Context Language Models", "cs.CL",
     "We study expert routing for language models with contexts of up to one million tokens."),
    ("Diffusion Transformers for Consistent Video Generation", "cs.CV",
     "We propose a diffusion transformer that keeps objects consistent across long video clips."),
    ("Retrieval-Augmented Generation with Verified Citations", "cs.CL",
     "We add a verifier that checks every citation a retrieval-augmented model produces."),
    ("Gaussian Splatting for Real-Time Scene Editing", "cs.CV",
     "We edit 3D scenes represented by Gaussian splats at interactive frame rates."),
    ("Reinforcement Learning from Verifiable Rewards for Math Reasoning", "cs.LG",
     "We train reasoning models with rewards that a symbolic checker can verify."),
    ("Efficient Attention Kernels on Commodity GPUs", "cs.LG",
     "We write attention kernels that reach high utilisation on consumer graphics cards."),
    ("Vision-Language Agents that Operate Desktop Software", "cs.AI",
     "We build agents that read screenshots and drive desktop applications with a mouse and "
     "keyboard."),
    ("Speculative Decoding with Learned Draft Heads", "cs.CL",
     "We speed up language model decoding with small draft heads trained alongside the model."),
    ("Benchmarking Long-Horizon Robot Manipulation", "cs.RO",
     "We release a benchmark of kitchen tasks that need hundreds of manipulation steps."),
    ("Quantization-Aware Training for 2-bit Language Models", "cs.LG",
     "We show that two-bit weights keep most of the quality when quantization is part of "
     "training."),
    ("Multilingual Speech Recognition for Low-Resource Languages", "cs.CL",
     "We train a speech recognizer that covers two hundred languages with little labelled audio."),
    ("Self-Supervised Depth Estimation from Monocular Video", "cs.CV",
     "We learn depth from ordinary video without any depth labels."),
]
DEMO_ORGANIZATIONS = _ORGS = [
    OrganizationRecord("demo-lab", "Demo Lab (demo data)"),
    OrganizationRecord("example-ai", "Example AI (demo data)"),
]
_AUTHORS = [
    "Ada Demo", "Grace Sample", "Alan Example", "Katherine Placeholder", "Edsger Mock",
    "Barbara Fixture",
]


_STOPWORDS = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or",
     "that", "the", "to", "via", "with", "without"]
)


def demo_keywords(title: str, count: int = 3) -> tuple[str, ...]:
    """The first `count` words of a title that are not stopwords ("for", "with", ...)."""
    words = [w.strip(",:;.") for w in title.lower().split()]
    return tuple([w for w in words if w and w not in _STOPWORDS][:count])


def demo_items(today: date | None = None) -> Iterator[SourceItem]:
    """Yield the demo papers, spread over the last few weekdays before `today`."""
    today = today or datetime.now(UTC).date()
    days = [d for d in (today - timedelta(days=i) for i in range(10)) if d.weekday() < 5][:4]
    for index, (title, category, abstract) in enumerate(_TOPICS):
        paper_id = f"0001.{index + 1:04d}"
        day = days[index % len(days)]
        added = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        paper = PaperRecord(
            id=paper_id,
            title=f"[Demo] {title}",
            abstract=f"{abstract} This is demo data shipped with Paperwire, not a real paper.",
            version=1,
            authors=tuple(_AUTHORS[(index + k) % len(_AUTHORS)] for k in range(2 + index % 3)),
            primary_category=category,
            categories=(category, "cs.AI") if category != "cs.AI" else (category,),
            published_at=added - timedelta(days=1),
            updated_at=added - timedelta(days=1),
            github_repo=f"https://github.com/example/demo-{index + 1}" if index % 2 == 0 else None,
            github_stars=(index * 37) % 500 if index % 2 == 0 else None,
            ai_keywords=demo_keywords(title),
            organization=_ORGS[index % len(_ORGS)],
            sources=frozenset({DEMO_SOURCE}),
            source_upvotes=(index * 7) % 40 + 1,
        )
        entry = DailyEntryRecord(paper_id, day, DEMO_SOURCE, submitted_by="demo-user",
                                 submitted_by_name="Demo User", submitted_at=added)
        yield SourceItem(paper, entry)
