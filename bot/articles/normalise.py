"""The canonical form of article text, shared by every format reader.

Display strings (titles, names, paragraphs) are NFC, with whitespace runs collapsed and
invisible characters removed; a body is its paragraphs separated by one blank line, with
hard-wrapped lines joined back.
"""

from __future__ import annotations

import unicodedata
from itertools import pairwise

# Hard-wrapped text has its longest line within these bounds; in other blocks (long
# scraped lines, or a few short header lines) each line is a paragraph of its own.
_WRAP_WIDTHS = range(40, 101)
# Invisible characters break quoting and search, so they go. A lone surrogate (JSON can
# spell one: "\\ud800") is no character at all: no UTF-8 writer (SQLite, JSON files,
# Telegram) accepts it, so it becomes U+FFFD, the replacement character.
_FIXES = {
    **dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad")),
    **dict.fromkeys(range(0xD800, 0xE000), "\ufffd"),
}


def clean_inline(text: str) -> str:
    """One line of display text: NFC, whitespace runs (NBSP included) collapsed, no
    invisible characters, and always encodable as UTF-8."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_FIXES).split())


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text``: blank lines separate them; inside a block, hard-wrapped lines
    are joined back, while an indented line (Reuters style) or a line too short to be a
    wrap (see :func:`_ends_paragraph`) starts a new paragraph."""
    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), ""]:
        if line.strip():
            block.append(line.rstrip())
        elif block:
            paragraphs += _unwrap(block)
            block = []
    return [p for p in map(clean_inline, paragraphs) if p]


def normalise_body(text: str) -> str:
    """Body text in the canonical form of :attr:`Article.text`."""
    return "\n\n".join(split_paragraphs(text))


def _unwrap(lines: list[str]) -> list[str]:
    width = max(map(len, lines))
    if len(lines) == 1 or width not in _WRAP_WIDTHS:
        return lines
    # Indented lines open paragraphs (Reuters style), even right after a one-line paragraph.
    base = min(map(_indent, lines))
    paragraphs = [lines[0]]
    for previous, line in pairwise(lines):
        if _indent(line) > base or _ends_paragraph(previous, width):
            paragraphs.append(line)
        else:
            paragraphs[-1] += " " + line
    return paragraphs


def _ends_paragraph(line: str, width: int) -> bool:
    """A line that ends a sentence well short of the wrap width was broken on purpose. Wrap
    widths wobble in real files (Reuters wraps anywhere from ~57 to 70 columns, and a first
    line is short where a dateline was cut off), so a short line that does not end a
    sentence is still a wrapped line."""
    return len(line) / width < 0.8 and line.endswith((".", "!", "?", ":", '"', "”", "’"))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
