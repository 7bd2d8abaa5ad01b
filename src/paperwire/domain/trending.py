"""The trending score: upvotes, decayed by age, nudged by GitHub stars.

score = (upvotes + star_weight * log10(1 + stars)) / (age_hours + 2) ** gravity

It is the Hacker News gravity formula with stars as a small prior. Every part
is returned so that pages can show why a paper ranks where it does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

GRAVITY = 1.5
STAR_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class TrendingScore:
    score: float
    upvotes: int
    stars: int
    age_hours: float
    vote_points: float
    star_points: float
    decay: float


def trending_score(
    *,
    upvotes: int,
    stars: int | None,
    added_at: datetime,
    now: datetime,
    gravity: float = GRAVITY,
    star_weight: float = STAR_WEIGHT,
) -> TrendingScore:
    """Score one paper as of `now`; `added_at` is when it reached the feed."""
    age_hours = max(0.0, (now - added_at).total_seconds() / 3600.0)
    star_count = max(0, stars or 0)
    vote_points = float(max(0, upvotes))
    star_points = star_weight * math.log10(1 + star_count)
    decay = (age_hours + 2.0) ** gravity
    return TrendingScore(
        score=(vote_points + star_points) / decay,
        upvotes=max(0, upvotes),
        stars=star_count,
        age_hours=age_hours,
        vote_points=vote_points,
        star_points=star_points,
        decay=decay,
    )
