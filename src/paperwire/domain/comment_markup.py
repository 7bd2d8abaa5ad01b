"""Comment Markdown -> safe HTML: markdown-it (raw HTML off), @mentions, then nh3.

Pure: the caller says which mentioned usernames exist; only those become links.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline

MENTION_RE = re.compile(r"@([A-Za-z0-9][A-Za-z0-9_-]{1,28}[A-Za-z0-9])")
_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "hr",
    "del",
    "h3",
    "h4",
    "h5",
    "h6",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "class"}}


def mentioned_usernames(source: str) -> set[str]:
    return {m.group(1) for m in MENTION_RE.finditer(source)}


def _mention_rule(known: Callable[[str], str | None]):
    def rule(state: StateInline, silent: bool) -> bool:
        pos = state.pos
        if state.src[pos] != "@":
            return False
        if pos > 0 and (state.src[pos - 1].isalnum() or state.src[pos - 1] in "_-."):
            return False
        match = MENTION_RE.match(state.src, pos)
        if not match:
            return False
        canonical = known(match.group(1))
        if canonical is None:
            return False
        if not silent:
            token = state.push("link_open", "a", 1)
            token.attrs = {"href": f"/users/{canonical}", "class": "mention"}
            text = state.push("text", "", 0)
            text.content = "@" + canonical
            state.push("link_close", "a", -1)
        state.pos = match.end()
        return True

    return rule


def _image_as_link(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    src = escapeHtml(token.attrGet("src") or "")
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env) or "image")
    return f'<a href="{src}">[image: {alt}]</a>'


def render_comment(source: str, existing_usernames: Iterable[str] = ()) -> str:
    """Render Markdown to sanitised HTML; mentions of existing users link to their profiles."""
    by_key = {name.casefold(): name for name in existing_usernames}
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    # Markdown images become a link to the image (no stray "!"): readers' browsers load
    # nothing from other sites unless they follow it.
    md.add_render_rule("image", _image_as_link)
    md.inline.ruler.before("emphasis", "mention", _mention_rule(lambda n: by_key.get(n.casefold())))
    html = md.render(source)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
