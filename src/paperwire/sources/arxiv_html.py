"""arXiv's HTML rendering of a paper (arxiv.org/html/ID) -> Markdown.

The page is untrusted input: scripts, styles, forms, frames and arXiv's page chrome
are removed; links keep only http(s) targets; images become absolute http(s) URLs
or are dropped; math becomes its TeX source; text that looks like an HTML tag is
escaped so no renderer turns it back into markup. Conversion is `markdownify`.

A body that ends before `</html>` or has no document in it counts as truncated:
`decode_page` raises ValueError and the shared HttpClient retries it like a 5xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, Tag
from markdownify import MarkdownConverter

from paperwire.domain.urls import safe_url
from paperwire.sources.http_client import HttpClient

MAX_PAGE_BYTES = 40_000_000
MAX_MARKDOWN_CHARS = 2_000_000
# Elements that never carry paper text (or are active content).
_DROP_TAGS = (
    "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object",
    "embed", "applet", "form", "input", "button", "select", "textarea", "nav", "header",
    "footer", "link", "meta", "base", "svg", "canvas", "audio", "video", "source", "dialog",
)
# arXiv page chrome around the LaTeXML document.
_DROP_CLASSES = (
    "ltx_page_header", "ltx_page_footer", "ltx_page_navbar", "package-alerts", "ltx_role_nav",
    "ltx_dates", "ar5iv-footer", "html-header-logo", "html-header-nav",
)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class FullText:
    markdown: str
    source_url: str


def page_url(html_base: str, paper_id: str) -> str:
    return f"{html_base.rstrip('/')}/{paper_id}"


def fetch_fulltext(
    client: HttpClient, html_base: str, paper_id: str, *, min_interval_s: float
) -> FullText:
    """GET the rendering and convert it; raises SourceError (404 -> SourceRefused)."""
    url = page_url(html_base, paper_id)
    html = client.get(url, decode=decode_page, min_interval_s=min_interval_s, accept="text/html")
    return FullText(html_to_markdown(html, base_url=url + "/"), url)


def decode_page(body: bytes) -> str:
    """The page as text; ValueError when it is cut off, empty or not an HTML document."""
    if len(body) > MAX_PAGE_BYTES:
        raise ValueError(f"the page is larger than {MAX_PAGE_BYTES} bytes")
    text = body.decode("utf-8", errors="replace")
    lowered = text[-4096:].lower()
    if "</html>" not in lowered:
        raise ValueError("the page ends before its closing html tag")
    if "<article" not in text.lower() and "ltx_document" not in text:
        raise ValueError("the page has no paper in it")
    return text


class _SafeConverter(MarkdownConverter):
    """markdownify with untrusted-input rules for links, images and stray markup."""

    def escape(self, text, parent_tags):
        return _TAG_START.sub("&lt;", super().escape(text, parent_tags))

    def convert_a(self, el, text, parent_tags):
        href = _safe_href(el.get("href"), self._base)
        if href is None:
            return text
        el["href"] = href
        return super().convert_a(el, text, parent_tags)

    def convert_img(self, el, text, parent_tags):
        src = _safe_href(el.get("src"), self._base)
        alt = " ".join((el.get("alt") or "").split())
        if src is None or src.startswith("#"):
            return alt
        el["src"] = src
        el["alt"] = _TAG_START.sub("&lt;", alt).replace("]", "\\]")
        return super().convert_img(el, text, parent_tags)


def html_to_markdown(html: str, *, base_url: str) -> str:
    """The paper's body (title and author block removed: the document header has them)."""
    soup = BeautifulSoup(html, "html.parser")
    root = soup.find("article") or soup.find(class_="ltx_document") or soup.body or soup
    for element in root.find_all(_DROP_TAGS):
        element.decompose()
    for comment in root.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for name in _DROP_CLASSES:
        for element in root.find_all(class_=name):
            element.decompose()
    # The document header (title, authors, abstract) is written from the database.
    for element in root.find_all(class_=("ltx_title_document", "ltx_authors", "ltx_abstract")):
        element.decompose()
    for element in root.find_all(class_="ltx_tag_item"):  # list bullets LaTeXML spells out
        element.decompose()
    for element in root.find_all(class_="ltx_tag_bibitem"):
        element.append(" ")
    for math in root.find_all("math"):
        tex = " ".join((math.get("alttext") or math.get_text(" ", strip=True)).split())
        display = math.get("display") == "block"
        math.replace_with(f"$${tex}$$" if display else f"${tex}$")
    for table in root.find_all("table", class_=("ltx_equation", "ltx_equationgroup")):
        paragraph = soup.new_tag("p")
        paragraph.string = table.get_text(" ", strip=True)
        table.replace_with(paragraph)
    for heading in root.find_all(re.compile(r"^h[1-5]$")):  # nest under "## Full text"
        heading.name = f"h{int(heading.name[1]) + 1}"
    converter = _SafeConverter(
        heading_style="ATX", bullets="-", escape_underscores=False, strip=["span"]
    )
    converter._base = base_url
    markdown = converter.convert_soup(root) if isinstance(root, Tag) else ""
    markdown = _BLANK_RUNS.sub("\n\n", markdown).strip()
    if len(markdown) > MAX_MARKDOWN_CHARS:
        markdown = markdown[:MAX_MARKDOWN_CHARS].rsplit("\n", 1)[0] + "\n\n[…]"
    if not markdown:
        raise ValueError("the page has no text")
    return markdown


def _safe_href(value: object, base: str) -> str | None:
    """An in-page anchor, or the link made absolute and passed by the one URL check."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if value.startswith("#"):
        return value if safe_url("https://x" + value.replace(" ", "")) else None
    absolute = safe_url(urljoin(base, value))
    if absolute is None:
        return None
    return absolute.replace(")", "%29").replace("(", "%28")
