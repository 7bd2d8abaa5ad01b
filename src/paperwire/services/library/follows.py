"""Follows: authors, organizations, arXiv categories and saved searches (query + filters).

A saved search is an alert: its new matches appear in the For-you feed and the digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from paperwire.domain import library_rules as rules
from paperwire.services.accounts import User
from paperwire.services.library.common import (
    CommunityError,
    checked,
    library_changed,
    not_found,
    require_active,
)
from paperwire.sources.arxiv_api import is_category
from paperwire.store.db import aware_utc, utcnow
from paperwire.store.library_tables import follows
from paperwire.store.papers import author_key
from paperwire.store.tables import organizations

KINDS = ("author", "organization", "category", "search")
SEARCH_FILTERS = ("category", "organization", "author", "has_code")
KIND_LABELS = {"author": "Author", "organization": "Organization", "category": "Category",
               "search": "Saved search"}


@dataclass(frozen=True, slots=True)
class FollowView:
    id: int
    kind: str
    value: str
    filters: dict
    created_at: datetime

    @property
    def label(self) -> str:
        if self.kind != "search":
            return self.value
        extra = " ".join(
            (f'{k}:"{v}"' if k != "has_code" else "has:code")
            for k, v in sorted(self.filters.items()) if v
        )
        return f"{self.value} {extra}".strip()

    @property
    def url(self) -> str:
        from urllib.parse import quote, urlencode

        if self.kind == "author":
            return f"/authors/{quote(self.value, safe='')}"
        if self.kind == "organization":
            return f"/organizations/{quote(self.value, safe='')}"
        if self.kind == "category":
            return "/search?" + urlencode({"q": "", "category": self.value})
        params = {"q": self.value, **{k: v for k, v in self.filters.items() if v}}
        return "/search?" + urlencode({k: ("true" if v is True else v) for k, v in params.items()})

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "value": self.value, "filters": self.filters,
                "label": self.label, "url": self.url, "createdAt": self.created_at.isoformat()}


def value_key(kind: str, value: str, filters: dict | None = None) -> str:
    if kind == "author":
        return author_key(value)[:500]
    if kind == "search":
        extra = "|".join(f"{k}={str(v).casefold()}" for k, v in sorted((filters or {}).items())
                         if v)
        return (rules.name_key(value) + ("|" + extra if extra else ""))[:500]
    return rules.name_key(value)[:500]


def _clean_filters(filters: dict | None) -> dict:
    clean: dict[str, object] = {}
    for key, value in (filters or {}).items():
        if key not in SEARCH_FILTERS:
            raise CommunityError(
                f"Saved searches keep the filters {', '.join(SEARCH_FILTERS)}; not {key[:30]!r}.",
                400, "filters")
        if key == "has_code":
            if value in (True, "true", "1", "on"):
                clean[key] = True
        elif isinstance(value, str) and value.strip():
            clean[key] = checked(rules.follow_value, value)
    return clean


def follow(
    engine: Engine, user: User | None, kind: str, value: str, filters: dict | None = None
) -> FollowView:
    """Follow something (idempotent: following it again returns the existing follow)."""
    user = require_active(user)
    if kind not in KINDS:
        raise CommunityError(f"You can follow {', '.join(KINDS)}; not {kind[:30]!r}.", 400, "kind")
    value = checked(rules.follow_value, value)
    clean = _clean_filters(filters) if kind == "search" else {}
    if kind == "category" and not is_category(value):
        raise CommunityError(f"{value!r} is not an arXiv category such as cs.CL.", 400, "value")
    with engine.connect() as conn:
        if kind == "organization":
            row = conn.execute(
                select(organizations.c.name).where(
                    func.lower(organizations.c.name) == value.lower()
                )
            ).first()
            if row is None:
                raise CommunityError(f"There is no organization {value!r} here.", 404, "value")
            value = row.name
    key = value_key(kind, value, clean)
    try:
        with engine.begin() as conn:
            count = conn.execute(
                select(func.count()).select_from(follows).where(follows.c.user_id == user.id)
            ).scalar_one()
            existing = conn.execute(
                select(follows.c.id).where(follows.c.user_id == user.id, follows.c.kind == kind,
                                           follows.c.value_key == key)
            ).first()
            if existing is None:
                if count >= rules.FOLLOWS_PER_USER_MAX:
                    raise CommunityError(
                        f"You follow {rules.FOLLOWS_PER_USER_MAX} things; unfollow one first.", 409
                    )
                conn.execute(follows.insert().values(
                    user_id=user.id, kind=kind, value=value, value_key=key, filters=clean,
                    created_at=utcnow(),
                ))
                library_changed(conn, user.id)
    except IntegrityError:  # a concurrent identical follow: same outcome
        pass
    found = find_follow(engine, user.id, kind, value, clean)
    assert found is not None
    return found


def unfollow(engine: Engine, user: User | None, follow_id: int) -> None:
    user = require_active(user, verified=False)
    with engine.begin() as conn:
        gone = conn.execute(
            delete(follows).where(follows.c.id == follow_id, follows.c.user_id == user.id)
        ).rowcount
        if gone:
            library_changed(conn, user.id)
    if not gone:
        raise not_found("follow")


def _view(row) -> FollowView:
    return FollowView(row.id, row.kind, row.value, dict(row.filters or {}),
                      aware_utc(row.created_at))


def list_follows(engine: Engine, user_id: int, kind: str | None = None) -> list[FollowView]:
    query = select(follows).where(follows.c.user_id == user_id)
    if kind:
        query = query.where(follows.c.kind == kind)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(follows.c.kind, follows.c.value_key)).all()
    return [_view(r) for r in rows]


def find_follow(
    engine: Engine, user_id: int, kind: str, value: str, filters: dict | None = None
) -> FollowView | None:
    key = value_key(kind, value, filters)
    with engine.connect() as conn:
        row = conn.execute(
            select(follows).where(follows.c.user_id == user_id, follows.c.kind == kind,
                                  follows.c.value_key == key)
        ).first()
    return _view(row) if row else None
