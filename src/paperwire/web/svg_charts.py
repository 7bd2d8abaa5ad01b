"""Server-side SVG charts: no JavaScript charting library.

Each function returns a complete, self-contained <svg> string. Every label is
escaped here, so templates may insert the result with `|safe`. Colours come from
CSS custom properties, so charts follow the page's light or dark theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # axis label (short)
    value: float
    tooltip: str = ""  # shown on hover and read by screen readers
    href: str | None = None


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    width: int = 760,
    height: int = 220,
    label_every: int | None = None,
) -> str:
    """A vertical bar chart with a y-axis maximum, ticks and sparse x labels."""
    pad_left, pad_bottom, pad_top, pad_right = 44, 28, 12, 8
    plot_w, plot_h = width - pad_left - pad_right, height - pad_top - pad_bottom
    top = max((b.value for b in bars), default=0) or 1
    n = max(len(bars), 1)
    step = plot_w / n
    bar_w = min(max(step * 0.8, 1.0), 48.0)
    every = label_every or max(1, -(-n // 6))  # at most about 6 labels: room at 390 px
    parts = [
        f'<svg class="chart chart-columns" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    for frac in (0.0, 0.5, 1.0):
        y = pad_top + plot_h * (1 - frac)
        parts.append(
            f'<line class="grid" x1="{pad_left}" y1="{y:.1f}" '
            f'x2="{width - pad_right}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{pad_left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_fmt(top * frac)}</text>'
        )
    for i, bar in enumerate(bars):
        h = plot_h * (bar.value / top)
        x = pad_left + i * step + (step - bar_w) / 2
        y = pad_top + plot_h - h
        tip = escape(bar.tooltip or f"{bar.label}: {_fmt(bar.value)}")
        rect = (
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{tip}</title></rect>"
        )
        if bar.href:
            rect = f'<a href="{escape(bar.href)}">{rect}</a>'
        parts.append(rect)
        if i % every == 0:
            centre = x + bar_w / 2
            anchor, at = label_anchor(centre, len(bar.label), pad_left, width - pad_right)
            parts.append(
                f'<text class="axis" x="{at:.1f}" y="{height - 8}" '
                f'text-anchor="{anchor}">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(rows: Sequence[Bar], *, title: str, width: int = 760, row_h: int = 22) -> str:
    """Labelled horizontal bars, one per row (for rankings such as categories)."""
    label_w = 120
    height = row_h * max(len(rows), 1) + 8
    top = max((r.value for r in rows), default=0) or 1
    parts = [
        f'<svg class="chart chart-rows" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    for i, row in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 70) * (row.value / top)
        parts.append(
            f'<text class="axis" x="{label_w - 8}" y="{y + row_h * 0.7:.1f}" '
            f'text-anchor="end">{escape(row.label)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}">'
            f"<title>{escape(row.tooltip or row.label)}</title></rect>"
            f'<text class="axis" x="{label_w + w + 6:.1f}" '
            f'y="{y + row_h * 0.7:.1f}">{_fmt(row.value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


CHAR_W = 11.0  # one label character at the larger (phone) axis font size, in chart units


def label_anchor(centre: float, chars: int, left: float, right: float) -> tuple[str, float]:
    """Where an x label goes so that it stays inside the chart: centred under its bar,
    or ending at the right edge (starting at the left one) when it would stick out."""
    half = chars * CHAR_W / 2
    if centre + half > right:
        return "end", right
    if centre - half < left:
        return "start", max(left - 8, 0.0)
    return "middle", centre


def _fmt(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"
