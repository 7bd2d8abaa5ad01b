"""Feed periods: one day, an ISO week or a month, parsed from query strings.

Pure functions; every error is a ValueError whose message says what to send instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# arXiv opened in August 1991; nothing can be on a feed before that.
EARLIEST_DAY = date(1991, 8, 1)

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # "day", "week" or "month"
    start: date
    end: date  # inclusive

    @property
    def key(self) -> str:
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        return self.start.isoformat()

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year}"
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        return self.start.strftime("%A, %-d %B %Y")

    def shifted(self, steps: int) -> Period:
        """The period `steps` weeks or months away (days are navigated by data instead)."""
        if self.kind == "week":
            return week_period(self.start + timedelta(weeks=steps))
        if self.kind == "month":
            index = self.start.year * 12 + self.start.month - 1 + steps
            return month_period(index // 12, index % 12 + 1)
        return day_period(self.start + timedelta(days=steps))


def day_period(day: date) -> Period:
    return Period("day", day, day)


def week_period(day: date) -> Period:
    start = day - timedelta(days=day.weekday())
    return Period("week", start, start + timedelta(days=6))


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period("month", start, following - timedelta(days=1))


def period_of(kind: str, day: date) -> Period:
    """The period of `kind` ("day", "week" or "month") that holds `day`."""
    if kind == "week":
        return week_period(day)
    if kind == "month":
        return month_period(day.year, day.month)
    return day_period(day)


def parse_day(text: str, *, today: date) -> date:
    if not _DAY_RE.match(text or ""):
        raise ValueError(f"date must look like 2025-06-16, not {text!r}.")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a real calendar date.") from None
    _check_range(day, day, today)
    return day


def parse_week(text: str, *, today: date) -> Period:
    match = _WEEK_RE.match(text or "")
    if not match:
        raise ValueError(f"week must look like 2025-W09 (ISO year and week), not {text!r}.")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        start = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a week of {year}.") from None
    period = week_period(start)
    _check_range(period.start, period.end, today)
    return period


def parse_month(text: str, *, today: date) -> Period:
    match = _MONTH_RE.match(text or "")
    if not match:
        raise ValueError(f"month must look like 2025-02, not {text!r}.")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1:
        raise ValueError(f"{text!r} is not a month: use 01 to 12.")
    period = month_period(year, month)
    _check_range(period.start, period.end, today)
    return period


def parse_period(
    *, day: str | None = None, week: str | None = None, month: str | None = None, today: date
) -> Period | None:
    """At most one of day, week and month; None when none is given."""
    given = [name for name, value in (("date", day), ("week", week), ("month", month)) if value]
    if len(given) > 1:
        raise ValueError(f"give only one of date, week and month (got {', '.join(given)}).")
    if day:
        return day_period(parse_day(day, today=today))
    if week:
        return parse_week(week, today=today)
    if month:
        return parse_month(month, today=today)
    return None


def _check_range(start: date, end: date, today: date) -> None:
    latest = today + timedelta(days=1)
    if end < EARLIEST_DAY or start > latest:
        raise ValueError(
            f"{start.isoformat()} is out of range: feeds run from {EARLIEST_DAY.isoformat()} to "
            f"{latest.isoformat()}."
        )
