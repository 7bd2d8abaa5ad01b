"""The one check for URLs that came from outside (sources, imports, users).

Every link that is stored or rendered into `href`/`src` goes through
`safe_url`: http or https, a host, a sane length, nothing a browser would
silently strip or reinterpret (control characters, embedded whitespace).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
_SCHEMES = frozenset({"http", "https"})
# C0 controls, space, DEL and C1 controls: browsers strip tabs/newlines inside a URL and
# leading C0/space, so "java\tscript:" and "\x01javascript:" both run as javascript:.
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f]")
_TAB_OR_NEWLINE = re.compile(r"[\t\r\n]")
_HOST = re.compile(r"^[A-Za-z0-9.\-_~%\[\]:]+$")


def safe_url(
    value: object, *, allow_relative: bool = False, max_length: int = MAX_URL_LENGTH
) -> str | None:
    """The URL, tabs, newlines and outer spaces removed, if it is a safe http(s) link; else None.

    With `allow_relative`, a site-relative path such as "/avatars/x.svg" (as Hugging Face
    gives avatars) is accepted too; "//host" and backslashes never are.
    """
    if not isinstance(value, str):
        return None
    # As browsers do (WHATWG URL parsing), tabs and newlines are removed anywhere, so what is
    # stored is what a browser would follow: "https://github.com/\nowner/repo" is kept
    # mended, and "java\tscript:" becomes "javascript:", which the scheme check refuses.
    text = _TAB_OR_NEWLINE.sub("", value).strip(" ")
    if not text or len(text) > max_length or _UNSAFE_CHARS.search(text):
        return None
    if allow_relative and text.startswith("/") and not text.startswith("//"):
        return text if "\\" not in text else None
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in _SCHEMES or not hostname or not _HOST.match(hostname):
        return None
    if "\\" in parts.netloc or "@" in parts.netloc:
        return None  # user:password@ hosts and backslash tricks are never a paper's link
    return text
