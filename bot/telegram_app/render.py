"""Answers and article lists as Telegram HTML, within Telegram's limits.

Every article or user string goes through ``html.escape``; messages are measured in UTF-16
code units (Telegram's unit) and split between quotes, never inside a tag. Fixed texts and
dates come from the reader's :class:`~bot.i18n.Texts`.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence

from bot.answers.model import Answer, Citation, Quote
from bot.answers.render_text import quoted_text
from bot.articles.model import Article
from bot.commands import status_text
from bot.i18n import Texts

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


def citation_html(citation: Citation, texts: Texts) -> str:
    return texts.line(
        [
            f"<b>{link(citation.title, citation.url)}</b>",
            escape(shorten(citation.source)),
            texts.date(citation.date),
            # TRANSLATORS: the paragraph of the article a quote comes from, as in "¶5".
            texts.html("¶{number}", number=citation.paragraph),
        ]
    )


def quote_html(quote: Quote, texts: Texts) -> str:
    """The quote in a blockquote, matched terms in bold, then its citation."""
    body = quoted_text(quote, ("<b>", "</b>"), escape)
    return f"<blockquote>{body}</blockquote>\n{citation_html(quote.citation, texts)}"


def answer_page(answer: Answer, first: int, texts: Texts, limit: int = 3) -> tuple[str, int]:
    """HTML for quotes ``first…`` (up to ``limit``, fewer if the message would be too long),
    and the index of the next quote not shown."""
    blocks: list[str] = []
    size = 0
    index = first
    # One block always fits: quotes are at most ~1,200 characters, titles and sources capped.
    while index < len(answer.quotes) and len(blocks) < limit:
        block = quote_html(answer.quotes[index], texts)
        added = visible_len(block) + (2 if blocks else 0)
        if blocks and size + added > MAX_MESSAGE:
            break
        blocks.append(block)
        size += added
        index += 1
    return "\n\n".join(blocks), index


def unanswered_html(answer: Answer, texts: Texts) -> str:
    lines = [escape(status_text(answer.status, texts))]
    if answer.related:
        lines.append("\n" + texts.html("Closest articles:"))
        lines += [source_line(c.title, c.url, c.source, c.date, texts) for c in answer.related]
    return "\n".join(lines)


def source_line(
    title: str, url: str, source: str, date: dt.date | None, texts: Texts, prefix: str = "• "
) -> str:
    """``prefix`` then linked title · source · date."""
    parts = [f"<b>{link(title, url)}</b>", escape(shorten(source)), texts.date(date)]
    return texts.line(parts, prefix)


def article_list(articles: Sequence[Article], heading: str, texts: Texts) -> str:
    """``heading`` (plain text) above one line per article."""
    if not articles:
        return texts.html("No articles yet.")
    lines = (source_line(a.title, a.url, a.source, a.date, texts) for a in articles)
    return "\n".join([f"<b>{escape(heading)}</b>", *lines])
