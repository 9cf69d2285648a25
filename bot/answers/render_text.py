"""Plain-text rendering of answers, for the command line and the local console chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.answers.model import Answer, AnswerStatus, Citation, Quote

# What each unanswered status tells the reader; the Telegram front end reuses these.
STATUS_MESSAGES = {
    AnswerStatus.EMPTY: "Please type a question, e.g. “What did Pompeo accuse TikTok of?”",
    AnswerStatus.TOO_LONG: (
        "That question is too long. Please ask in fewer words (up to 1,000 characters)."
    ),
    AnswerStatus.NO_TERMS: (
        "I could not find any searchable words in that. Try a question with names or topics."
    ),
    AnswerStatus.NO_MATCH: "Nothing in the articles answers this.",
}


def format_date(date: dt.date | None) -> str:
    """ "16 Aug 2020", or "" for an undated article."""
    return f"{date.day} {date:%b %Y}" if date else ""


def source_text(title: str, source: str, date: dt.date | None) -> str:
    """ "Title · Source · 16 Aug 2020" (empty fields left out)."""
    return " · ".join(p for p in (title, source, format_date(date)) if p)


def citation_line(citation: Citation) -> str:
    """ "Title · Source · 16 Aug 2020 · ¶5"."""
    return f"{source_text(citation.title, citation.source, citation.date)} · ¶{citation.paragraph}"


def quoted_text(
    quote: Quote, mark: tuple[str, str] = ("", ""), escape: Callable[[str], str] = str
) -> str:
    """The quote with ellipses where the paragraph goes on and ``mark`` around matched terms.

    ``escape`` is applied to each piece of text separately, so markup front ends get marks
    around escaped text and never split an entity.
    """
    out, pos = [], 0
    for start, end in quote.highlights:
        out += [escape(quote.text[pos:start]), mark[0], escape(quote.text[start:end]), mark[1]]
        pos = end
    out.append(escape(quote.text[pos:]))
    return ("…" if quote.cut_before else "") + "".join(out) + ("…" if quote.cut_after else "")


def reply_length(quotes: list[Quote]) -> int:
    """Characters (UTF-16 code units, Telegram's unit) of ``quotes`` shown as one reply: each
    quote with its ellipses, a line break and its citation line, a blank line between quotes.
    Front ends may shorten titles, never lengthen them: this is what they show, or more."""
    shown = sum(_utf16(quoted_text(q)) + 1 + _utf16(citation_line(q.citation)) for q in quotes)
    return shown + 2 * max(len(quotes) - 1, 0)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render_answer(answer: Answer, mark: tuple[str, str] = ("", "")) -> str:
    if not answer.answered:
        lines = [STATUS_MESSAGES[answer.status]]
        if answer.related:
            lines.append("Closest articles:")
            lines += [f"  - {citation_line(c)}" for c in answer.related]
        return "\n".join(lines)
    blocks = []
    for n, quote in enumerate(answer.quotes, start=1):
        block = f"[{n}] “{quoted_text(quote, mark)}”\n    — {citation_line(quote.citation)}"
        if quote.citation.url:
            block += f"\n    {quote.citation.url}"
        blocks.append(block)
    return "\n\n".join(blocks)
