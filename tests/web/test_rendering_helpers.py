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
