"""Jinja globals the accounts/community partials (and other areas' forms) use.

`csrf_field(request)` / `csrf_token(request)` for forms and fetch();
`current_user(request)`; `vote_state(request, paper)` and
`comment_thread(request, paper_id)` so the partials need nothing from the
handlers that include them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from jinja2 import Environment

from paperwire.services import community
from paperwire.web.csrf import csrf_field, csrf_token


def current_user(request: Request):
    return getattr(request.state, "user", None)


def _paper_id(paper: Any) -> str:
    if isinstance(paper, dict):
        return str(paper.get("id", ""))
    return str(getattr(paper, "id", paper))


def vote_state(request: Request, paper: Any) -> community.VoteState:
    """Whether the current user upvoted `paper` and its shown count (imported + local)."""
    paper_id = _paper_id(paper)
    engine = request.app.state.container.engine
    user = current_user(request)
    voted = False
    if user is not None:
        cache = getattr(request.state, "voted_ids", None)
        if cache is None:
            cache = community.voted_ids(engine, user.id)
            request.state.voted_ids = cache
        voted = paper_id in cache
    get = paper.get if isinstance(paper, dict) else lambda k, d=None: getattr(paper, k, d)
    source, local = get("source_upvotes"), get("local_upvotes")
    if isinstance(source, int) and isinstance(local, int):
        count = source + local
    elif isinstance(get("upvotes"), int):
        count = get("upvotes")
    else:
        count = community.vote_count(engine, paper_id)
    return community.VoteState(paper_id, voted, count)


@dataclass(frozen=True, slots=True)
class PaperClaims:
    approved: list  # ClaimView: shown beside the author's name
    mine: Any  # this user's pending or approved claim, or None

    def approved_for(self, author_name: str) -> list[str]:
        key = " ".join(author_name.split()).casefold()
        return [c.username for c in self.approved
                if " ".join(c.author_name.split()).casefold() == key]


def paper_claims(request: Request, paper: Any) -> PaperClaims:
    claims = community.claims_on_paper(request.app.state.container.engine, _paper_id(paper))
    user = current_user(request)
    mine = next((c for c in claims if user is not None and c.username == user.username), None)
    return PaperClaims([c for c in claims if c.status == "approved"], mine)


def author_claims(request: Request, author_name: str) -> list[str]:
    engine = request.app.state.container.engine
    return sorted({c.username for c in community.approved_claims_for_author(engine, author_name)})


def comment_thread(request: Request, paper_id: Any) -> list[community.CommentView]:
    return community.comment_thread(request.app.state.container.engine, _paper_id(paper_id))


def install_account_globals(env: Environment) -> None:
    env.globals.update(
        csrf_field=csrf_field,
        csrf_token=csrf_token,
        current_user=current_user,
        vote_state=vote_state,
        comment_thread=comment_thread,
        paper_claims=paper_claims,
        author_claims=author_claims,
    )
