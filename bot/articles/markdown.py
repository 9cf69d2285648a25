"""Markdown articles with optional YAML front matter.

The body is reduced to plain text because it is quoted back to readers in Telegram: link
text stays and URLs go, images go, emphasis markers go, headings and list items become
paragraphs of their own, code is kept as text.
"""

from __future__ import annotations

import re

import yaml

from bot.errors import ArticleError

from .fields import article_from_fields, text_value
from .model import Article, fallback_title
from .normalise import clean_inline, normalise_body

_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE
)
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(?P<level>#{1,6})\s+(?P<text>.*?)(?:\s+#+)?\s*$")
_RULE = re.compile(r"^\s{0,3}(?:[-*_=]\s*){3,}$")  # also setext heading underlines
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_INLINE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[\^[^\]]+\]"), ""),  # footnote references
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
]


class _FrontMatterLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases (``&name``, ``*name``).

    An alias is shared when loaded but copied out when its field becomes a string, so 600
    bytes of aliases nested nine deep ("billion laughs") expand to gigabytes. Front matter
    has no need for them.
    """

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 2  # the file's line: front matter starts on line 2
            raise ArticleError(
                f"invalid front matter: YAML anchors and aliases (&name, *name) are not "
                f"allowed (line {line})"
            )
        return super().compose_node(parent, index)


def read_markdown(text: str, relpath: str) -> Article:
    """The article in a Markdown file; the title comes from the front matter, else the
    first level-1 heading, else the file name. That heading leaves the body when it is
    the title (or repeats it), since the body must not start with the title."""
    fields, body = _split_front_matter(text)
    lines, h1 = _plain_lines(body)
    title = ""
    if h1 is not None and text_value(fields.get("title")) in ("", clean_inline(lines[h1])):
        title = clean_inline(lines.pop(h1))
    if not (body_text := normalise_body("\n".join(lines))):
        raise ArticleError("no body text")
    default_title = title or fallback_title(relpath)
    return article_from_fields(fields, body_text, relpath, default_title=default_title)


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        fields = yaml.load(match["yaml"], Loader=_FrontMatterLoader)
    except ArticleError:
        raise
    except yaml.YAMLError as error:
        raise ArticleError(f"invalid front matter: {' '.join(str(error).split())}") from None
    except RecursionError:
        raise ArticleError("invalid front matter: nested too deeply") from None
    except ValueError as error:  # a value PyYAML cannot build: 2021-02-30, a 5,000-digit int
        raise ArticleError(f"invalid front matter: {str(error).partition(';')[0]}") from None
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise ArticleError("invalid front matter: expected 'key: value' lines")
    return {str(key).lower(): value for key, value in fields.items()}, text[match.end() :]


def _plain_lines(body: str) -> tuple[list[str], int | None]:
    """Body lines with Markdown syntax removed, and the index of the first level-1 heading.
    Headings and list items get blank lines around them so they stay separate paragraphs."""
    lines: list[str] = []
    h1: int | None = None
    in_code = False
    for line in body.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            lines.append("")
        elif in_code:
            lines.append(line)
        elif heading := _HEADING.match(line):
            if h1 is None and len(heading["level"]) == 1:
                h1 = len(lines) + 1
            lines += ["", _inline(heading["text"]), ""]
        elif _RULE.match(line) or _LINK_DEFINITION.match(line):
            lines.append("")
        elif item := _LIST_ITEM.match(line):
            lines += ["", _inline(line[item.end() :])]
        else:
            lines.append(_inline(_QUOTE.sub("", line)))
    return lines, h1


def _inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text
