"""Pure rendering helpers: SVG charts and search highlighting stay inert with hostile text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from paperwire.web.filters import compact, highlight, path_segment
from paperwire.web.svg_charts import Bar, bar_chart, horizontal_bars


def test_bar_chart_is_valid_svg_with_escaped_labels():
    svg = bar_chart(
        [Bar("Jan", 10, "<script>x</script>", "/papers/1?a=1&b=2"), Bar("Feb", 30), Bar("Mar", 0)],
        title='Upvotes & "stars"',
    )
    root = ET.fromstring(svg)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    bars = root.findall(f".//{ns}rect")
    assert len(bars) == 3
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == max(heights) and heights[2] == 0 and abs(heights[0] * 3 - heights[1]) < 0.5
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert root.get("role") == "img" and root.get("aria-label") == 'Upvotes & "stars"'
    assert ET.fromstring(horizontal_bars([Bar("cs.CL", 5), Bar("<b>", 2)], title="t")) is not None
    assert bar_chart([], title="empty").startswith("<svg")


def test_highlight_escapes_then_marks():
    html = str(highlight('Diffusion <img src=x onerror="alert(1)"> & diffusions', "diffusion img"))
    assert html.startswith("<mark>Diffusion</mark> &lt;<mark>img</mark> src=x")
    assert "<img" not in html and "&amp; <mark>diffusion</mark>s" in html
    assert str(highlight("plain & simple", "amp")) == "plain &amp; simple"  # entities stay intact
    assert str(highlight("<b>", "")) == "&lt;b&gt;"


def test_small_filters():
    assert compact(1234) == "1.2k" and compact(None) == "0" and compact(2_500_000) == "2.5M"
    assert path_segment("O'Brien/Jr. X") == "O%27Brien%2FJr.%20X"


def test_bar_chart_labels_stay_inside_the_chart():
    import re

    bars = [Bar(f"2025-{m:02d}", m) for m in range(1, 13)]
    svg = bar_chart(bars, title="months", width=760)
    pattern = r'<text class="axis" x="([\d.]+)" y="212" text-anchor="(\w+)">([^<]+)<'
    labels = re.findall(pattern, svg)
    assert len(labels) <= 6  # room for them at phone width too
    for x, anchor, text in labels:
        half = len(text) * 11.0 / 2
        left = {"middle": float(x) - half, "end": float(x) - 2 * half, "start": float(x)}[anchor]
        right = left + 2 * half
        assert left >= 0 and right <= 760, (x, anchor, text)
    one = bar_chart([Bar("10 Jun 2025", 3)], title="one", width=760)
    assert 'text-anchor="middle">10 Jun 2025<' in one  # centred when it fits


def test_phone_css_enlarges_chart_text(client):
    css = client.get("/static/style.css").text
    phone = css[css.index("@media (max-width: 640px)"):]
    assert ".chart-columns .axis { font-size: 20px; }" in phone


def test_thousands_on_the_stats_page(seeded, client):
    from paperwire.web.filters import thousands

    assert thousands(1234567) == "1,234,567" and thousands(None) == "0"
    assert "<dd>1" in client.get("/stats").text
