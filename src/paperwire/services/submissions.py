"""Submitting a paper to today's daily page, as on Hugging Face.

Metadata comes from the database when the paper is known: the entry is then added at
once. Otherwise the request only checks what it can (the id, the once-per-window
rule) and queues a `SUBMIT_QUEUE` job; the job fetches the paper from arXiv (retries,
timeouts and arXiv's request spacing happen there, never in a request) and adds it.
`submission_status` tells the submitter how it went: pending, added, or failed with
the reason. The paper and its daily entry are written in one transaction: a refused
or failed submission leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.records import DailyEntryRecord, PaperRecord
from paperwire.services.accounts import User
from paperwire.services.background import GiveUp, JobQueue, RetryLater
from paperwire.services.community import CommunityError, require_active
from paperwire.store.db import utcnow
from paperwire.store.jobs import get_job
from paperwire.store.papers import add_daily_entries, get_paper, upsert_papers
from paperwire.store.tables import daily_entries

if TYPE_CHECKING:
    from paperwire.ports import PaperFetcher

SOURCE = "submitted"
SUBMIT_QUEUE = "submission"


@dataclass(frozen=True, slots=True)
class Submission:
    """A submission that is on today's page already (its paper was known)."""

    paper: PaperRecord
    day: date
    fetched: bool  # True when the metadata came from arXiv just now

    def as_json(self) -> dict[str, object]:
        return {
            "status": "added",
            "id": self.paper.id,
            "title": self.paper.title,
            "day": self.day.isoformat(),
            "url": f"/papers/{self.paper.id}",
        }


@dataclass(frozen=True, slots=True)
class QueuedSubmission:
    """A submission waiting for its paper to be fetched from arXiv."""

    job_id: int
    paper_id: str
    day: date
    payload: dict[str, Any]

    @property
    def status_url(self) -> str:
        return f"/submit/{self.job_id}"

    def as_json(self) -> dict[str, object]:
        return {"status": "pending", "id": self.paper_id, "day": self.day.isoformat(),
                "statusUrl": self.status_url + "?format=json"}


@dataclass(frozen=True, slots=True)
class SubmissionStatus:
    job_id: int
    paper_id: str
    day: date
    state: str  # pending | added | failed
    reason: str | None  # why it failed, or why the last try did not work (pending)
    attempts: int

    def as_json(self) -> dict[str, object]:
        return {"status": self.state, "id": self.paper_id, "day": self.day.isoformat(),
                "reason": self.reason, "attempts": self.attempts,
                "url": f"/papers/{self.paper_id}" if self.state == "added" else None}


def submit_paper(
    engine: Engine,
    user: User | None,
    text: str,
    *,
    jobs: JobQueue,
    max_age_days: int,
    today: date | None = None,
) -> Submission | QueuedSubmission:
    """Add a paper (id or URL) to today's page with the submitter recorded, or queue
    its fetch from arXiv when it is not stored yet."""
    user = require_active(user)
    text = (text or "").strip()
    if not text:
        raise CommunityError("Enter an arXiv id such as 2506.11924 or its URL.", 400, "arxiv_id")
    try:
        paper_id = parse_arxiv_id(text[:300]).id
    except InvalidArxivId as exc:
        raise CommunityError(str(exc), 400, "arxiv_id") from None
    today = today or utcnow().date()
    with engine.connect() as conn:
        _check_not_listed(conn, paper_id, today, max_age_days)
        stored = get_paper(conn, paper_id)
    if stored is None:
        payload = {"paper_id": paper_id, "day": today.isoformat(), "user_id": user.id,
                   "username": user.username}
        job_id = jobs.enqueue(SUBMIT_QUEUE, payload,
                              dedupe_key=f"{today.isoformat()}:{paper_id}:{user.id}")
        return QueuedSubmission(job_id, paper_id, today, payload)
    _check_age(stored, today, max_age_days)
    _add_entry(engine, stored, fetched=False, day=today, user_id=user.id,
               username=user.username)
    return Submission(stored, today, False)


def run_submission(engine: Engine, payload: dict[str, Any], *, fetch: PaperFetcher,
                   max_age_days: int) -> None:
    """The SUBMIT_QUEUE job: fetch the paper from arXiv and add it to its day's page.

    arXiv not answering is RetryLater (the runner tries again, then fails it); an
    unknown id, a paper too old, or one listed meanwhile is GiveUp, with the reason the
    submitter sees.
    """
    from paperwire.sources.http_client import SourceError

    paper_id, day = payload["paper_id"], date.fromisoformat(payload["day"])
    with engine.connect() as conn:
        paper = get_paper(conn, paper_id)
    fetched = paper is None
    try:
        if paper is None:
            try:
                paper = fetch([paper_id])[0]
            except SourceError as exc:
                if type(exc).__name__ == "PaperNotFound":
                    raise GiveUp(f"arXiv has no paper {paper_id}; check the id.") from None
                raise RetryLater(
                    f"arXiv did not answer for {paper_id}; trying again in a few minutes."
                ) from None
        with engine.connect() as conn:
            _check_not_listed(conn, paper_id, day, max_age_days)
        _check_age(paper, day, max_age_days)
        _add_entry(engine, paper, fetched=fetched, day=day, user_id=payload["user_id"],
                   username=payload["username"])
    except CommunityError as exc:
        raise GiveUp(exc.message) from None


def submission_status(engine: Engine, user: User | None, job_id: int) -> SubmissionStatus:
    """How the submitter's queued submission went; only they (or an admin) may look."""
    user = require_active(user, verified=False)
    job = get_job(engine, job_id)
    if (job is None or job.queue != SUBMIT_QUEUE
            or (job.payload.get("user_id") != user.id and not user.is_admin)):
        raise CommunityError("There is no such submission.", 404)
    state = {"done": "added", "failed": "failed"}.get(job.status, "pending")
    reason = job.last_error
    if reason and reason.startswith("Traceback"):
        reason = "Paperwire could not add it because of an internal error (kept in its log)."
    return SubmissionStatus(job.id, job.payload["paper_id"],
                            date.fromisoformat(job.payload["day"]), state,
                            reason if state != "added" else None, job.attempts)


def _check_not_listed(conn, paper_id: str, day: date, max_age_days: int) -> None:
    if _listed_on(conn, paper_id, day):
        raise _duplicate(paper_id)
    recent = _last_listed_since(conn, paper_id, day - timedelta(days=max_age_days))
    if recent is not None:  # once per window: an old listing brings no second run
        raise CommunityError(
            f"{paper_id} was on the daily page on {recent.isoformat()}; a paper is on the "
            f"daily page once per {max_age_days} days.",
            409,
            "arxiv_id",
        )


def _add_entry(engine: Engine, paper: PaperRecord, *, fetched: bool, day: date,
               user_id: int, username: str) -> None:
    entry = DailyEntryRecord(
        paper_id=paper.id,
        day=day,
        source=SOURCE,
        submitted_by=username,
        submitted_by_name=username,
        submitted_at=utcnow(),
    )
    try:
        with engine.begin() as conn:
            if fetched:
                upsert_papers(conn, [paper])
            if add_daily_entries(conn, [entry]) != 1:
                raise _duplicate(paper.id)
            conn.execute(
                update(daily_entries)
                .where(daily_entries.c.day == day, daily_entries.c.paper_id == paper.id)
                .values(submitted_by_user_id=user_id)
            )
    except IntegrityError:  # a simultaneous submission of the same paper won
        raise _duplicate(paper.id) from None


def _listed_on(conn, paper_id: str, day: date) -> bool:
    return (
        conn.execute(
            select(daily_entries.c.id).where(
                daily_entries.c.day == day, daily_entries.c.paper_id == paper_id
            )
        ).first()
        is not None
    )


def _last_listed_since(conn, paper_id: str, since: date) -> date | None:
    return conn.execute(
        select(func.max(daily_entries.c.day)).where(
            daily_entries.c.paper_id == paper_id, daily_entries.c.day >= since
        )
    ).scalar()


def _duplicate(paper_id: str) -> CommunityError:
    return CommunityError(f"{paper_id} is already on today's page.", 409, "arxiv_id")


def _check_age(paper: PaperRecord, today: date, max_age_days: int) -> None:
    published = paper.published_at
    if published is None:
        return
    if published.date() < today - timedelta(days=max_age_days):
        raise CommunityError(
            f"{paper.id} was published on {published.date().isoformat()}; only papers from the "
            f"last {max_age_days} days can be submitted.",
            400,
            "arxiv_id",
        )
