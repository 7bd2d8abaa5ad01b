"""Pure rules: rate-limit windows, lockout backoff, permissions, comment rendering, names."""

from __future__ import annotations

import pytest

from paperwire.config import load_settings
from paperwire.domain.account_rules import email_problem, username_problem
from paperwire.domain.comment_markup import render_comment
from paperwire.domain.permissions import Action, can, can_delete_comment, can_edit_comment
from paperwire.domain.rate_limits import (
    InvalidRateLimit,
    RateLimit,
    lockout_remaining,
)


def test_rate_limit_parse_and_window():
    limit = RateLimit.parse("3/10")
    assert limit == RateLimit(3, 10.0)
    for bad in ("ten/60", "0/60", "5/0", "5"):
        with pytest.raises(InvalidRateLimit):
            RateLimit.parse(bad)
    with pytest.raises(ValueError, match="is not a rate limit"):
        load_settings(rate_limit_api="lots")


def test_lockout_remaining_counts_down():
    kwargs = {"threshold": 3, "base_s": 10, "max_s": 100}
    assert lockout_remaining(2, 1000.0, 1001.0, **kwargs) == 0
    assert lockout_remaining(3, 1000.0, 1001.0, **kwargs) == 9
    assert lockout_remaining(4, 1000.0, 1001.0, **kwargs) == 19
    assert lockout_remaining(4, 1000.0, 1100.0, **kwargs) == 0
    assert lockout_remaining(5, None, 1.0, **kwargs) == 0


def test_permissions():
    assert can("admin", Action.SUSPEND_USER)
    assert not can("moderator", Action.SUSPEND_USER)
    assert can("moderator", Action.HIDE_PAPER) and can("moderator", Action.DELETE_ANY_COMMENT)
    assert not can("user", Action.FEATURE_PAPER)
    assert not can("moderator", Action.DECIDE_CLAIM)
    assert can_edit_comment(1, 1) and not can_edit_comment(2, 1)
    assert can_delete_comment(2, "moderator", 1) and not can_delete_comment(2, "user", 1)


def test_comment_rendering_is_sanitised_and_links_mentions():
    html = render_comment(
        "Hi @Bob and @nobody, mail a@bob.org `@Bob` <b onclick=x>raw</b> [x](javascript:alert(1))",
        ["bob"],
    )
    assert '<a href="/users/bob" class="mention"' in html
    assert "@nobody" in html and "/users/nobody" not in html
    assert "a@bob.org" in html and "/users/bob.org" not in html
    assert "<code>@Bob</code>" in html
    assert "<b" not in html and "&lt;b onclick=x&gt;" in html
    assert "javascript:" not in html.replace("(javascript:alert(1))", "")
    assert "<img" not in render_comment("![x](https://tracker.example/p.gif)")


def test_username_and_email_rules():
    assert username_problem("ada_lovelace") is None
    for bad in ("ab", "-ada", "ada!", "a" * 31, "<script>", "Admin"):
        assert username_problem(bad), bad
    assert email_problem("ada@example.org") is None
    for bad in ("ada", "ada@", "a b@example.org", "<a@b.org>", "a@b"):
        assert email_problem(bad), bad
