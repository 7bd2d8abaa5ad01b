"""Help text in words a user reads, not Python types.

Typer 0.2x labels parameters with their annotations (`<list[Path]>`, `<str>`,
`<%Y-%m-%d>`). `install()` replaces that label, once per process, with click's usual
words (TEXT, INTEGER, PATH, YYYY-MM-DD, a|b); an argument whose name already says what it
is gets no label at all (`PATH...`).
"""

from __future__ import annotations

import re

from typer import core

_WORDS = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "NUMBER",
    "Path": "PATH",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIRECTORY",
    "bool": "",
    "int range": "INTEGER",
    "float range": "NUMBER",
}
_FORMATS = {"%Y-%m-%d": "YYYY-MM-DD", "%Y-%m-%dT%H:%M:%S": "YYYY-MM-DDTHH:MM:SS"}


def plain_label(label: str) -> str:
    """`<list[Path]>` -> `PATH...`, `<str>` -> `TEXT`, `<%Y-%m-%d>` -> `YYYY-MM-DD`."""
    inner = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    repeated = False
    if match := re.fullmatch(r"list\[(.*)\]", inner):
        inner, repeated = match.group(1), True
    if "%" in inner:
        word = "|".join(_FORMATS.get(f, f) for f in inner.split("|"))
    elif inner in _WORDS:
        word = _WORDS[inner]
    elif "|" in inner:
        word = "[" + inner + "]"
    else:
        word = inner.upper()
    return f"{word}..." if repeated and word else word


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    typed = core._TyperParameter.display_type

    def display_type(self, ctx):
        return plain_label(typed(self, ctx))

    def argument_type_rich(self, ctx):
        label = display_type(self, ctx)
        name = self.display_name_raw.upper().rstrip(".")
        return None if label.rstrip(".") in ("TEXT", "PATH", name, "") else label

    core._TyperParameter.display_type = display_type
    core.TyperArgument.display_type_rich = argument_type_rich
