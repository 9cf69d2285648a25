"""Answers and article lists as Telegram HTML, within Telegram's limits.

Every article or user string goes through ``html.escape``; messages are measured in UTF-16
code units (Telegram's unit) and split between quotes, never inside a tag.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence

from bot.answers.model import Answer, Citation, Quote
from bot.answers.render_text import STATUS_MESSAGES, format_date, quoted_text
from bot.articles.model import Article

MAX_MESSAGE = 4096  # UTF-16 code units, after entity parsing
MAX_TITLE = 200  # characters of a title or source shown in lists and alerts
_TAG = re.compile(r"<[^>]*>")  # safe on HTML built here: every text piece is escaped


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_len(html_text: str) -> int:
    """Length Telegram counts for our own HTML: tags removed, entities one character each."""
    return utf16_len(html.unescape(_TAG.sub("", html_text)))


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """Plain text cut to ``limit`` UTF-16 code units (never inside a surrogate pair)."""
    if utf16_len(text) <= limit:
        return text
    cut = text.encode("utf-16-le")[: 2 * (limit - 1)].decode("utf-16-le", errors="ignore")
    return cut + "…"


def shorten(text: str, limit: int = MAX_TITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def link(title: str, url: str) -> str:
    title = shorten(title)
    return f'<a href="{escape(url)}">{escape(title)}</a>' if url else escape(title)


def citation_html(citation: Citation) -> str:
    parts = [
        f"<b>{link(citation.title, citation.url)}</b>",
        escape(shorten(citation.source)),
        format_date(citation.date),
        f"¶{citation.paragraph}",
    ]
    return " · ".join(p for p in parts if p)


def quote_html(quote: Quote) -> str:
    """The quote in a blockquote, matched terms in bold, then its citation."""
    body = quoted_text(quote, ("<b>", "</b>"), escape)
    return f"<blockquote>{body}</blockquote>\n{citation_html(quote.citation)}"


def answer_page(answer: Answer, first: int, limit: int = 3) -> tuple[str, int]:
    """HTML for quotes ``first…`` (up to ``limit``, fewer if the message would be too long),
    and the index of the next quote not shown."""
    blocks: list[str] = []
    size = 0
    index = first
    # One block always fits: quotes are at most ~1,200 characters, titles and sources capped.
    while index < len(answer.quotes) and len(blocks) < limit:
        block = quote_html(answer.quotes[index])
        added = visible_len(block) + (2 if blocks else 0)
        if blocks and size + added > MAX_MESSAGE:
            break
        blocks.append(block)
        size += added
        index += 1
    return "\n\n".join(blocks), index


def unanswered_html(answer: Answer) -> str:
    lines = [escape(STATUS_MESSAGES[answer.status])]
    if answer.related:
        lines.append("\nClosest articles:")
        lines += [f"• {source_line(c.title, c.url, c.source, c.date)}" for c in answer.related]
    return "\n".join(lines)


def source_line(title: str, url: str, source: str, date: dt.date | None) -> str:
    """Linked title · source · date."""
    parts = [f"<b>{link(title, url)}</b>", escape(shorten(source)), format_date(date)]
    return " · ".join(p for p in parts if p)


def article_list(articles: Sequence[Article], heading: str) -> str:
    if not articles:
        return "No articles yet."
    lines = (f"• {source_line(a.title, a.url, a.source, a.date)}" for a in articles)
    return "\n".join([f"<b>{escape(heading)}</b>", *lines])
