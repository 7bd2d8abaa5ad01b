from datetime import UTC, datetime, timedelta

import pytest

from paperwire.domain.trending import GRAVITY, trending_score

NOW = datetime(2025, 6, 16, 12, tzinfo=UTC)


def score(**kw):
    defaults = {"upvotes": 10, "stars": None, "added_at": NOW - timedelta(hours=10), "now": NOW}
    return trending_score(**(defaults | kw))


def test_parts_add_up_to_the_score():
    s = score(upvotes=30, stars=999, added_at=NOW - timedelta(hours=22))
    assert s.age_hours == pytest.approx(22)
    assert s.vote_points == 30
    assert s.star_points == pytest.approx(2 * 3)  # 2 * log10(1000)
    assert s.decay == pytest.approx(24**GRAVITY)
    assert s.score == pytest.approx((30 + 6) / 24**GRAVITY)


def test_more_upvotes_rank_higher_at_equal_age():
    assert score(upvotes=50).score > score(upvotes=10).score


def test_newer_papers_beat_older_ones_with_the_same_votes():
    assert (
        score(added_at=NOW - timedelta(hours=2)).score
        > score(added_at=NOW - timedelta(days=3)).score
    )


def test_stars_are_a_small_tie_breaker():
    with_stars = score(upvotes=10, stars=5000)
    assert with_stars.score > score(upvotes=10).score
    # 5,000 stars are worth less than ten extra upvotes.
    assert with_stars.score < score(upvotes=20).score


def test_future_dates_and_negative_counts_are_clamped():
    s = score(upvotes=-5, stars=-3, added_at=NOW + timedelta(hours=5))
    assert s.age_hours == 0 and s.upvotes == 0 and s.stars == 0 and s.score == 0
