"""Plain-text rendering of answers, for the command line and the local console chat, in
the reader's language (a :class:`~bot.i18n.Texts`; English when none is given)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.answers.model import Answer, Citation, Quote
from bot.i18n import Texts, texts_for


def format_date(date: dt.date | None, texts: Texts | None = None) -> str:
    """ "16 Aug 2020" (as ``texts``' language writes it), or "" for an undated article."""
    return (texts or texts_for("en")).date(date)


def source_text(title: str, source: str, date: dt.date | None, texts: Texts | None = None) -> str:
    """ "Title · Source · 16 Aug 2020" (empty fields left out)."""
    return " · ".join(p for p in (title, source, format_date(date, texts)) if p)


def citation_line(citation: Citation, texts: Texts | None = None) -> str:
    """ "Title · Source · 16 Aug 2020 · ¶5"."""
    texts = texts or texts_for("en")
    paragraph = texts.gettext("¶{number}", number=citation.paragraph)
    return f"{source_text(citation.title, citation.source, citation.date, texts)} · {paragraph}"


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


def render_answer(
    answer: Answer, mark: tuple[str, str] = ("", ""), texts: Texts | None = None
) -> str:
    # Here, not at the top: bot.commands imports the answer model, whose package imports the
    # engine, which imports this module.
    from bot.commands import status_text  # what each unanswered status tells the reader

    texts = texts or texts_for("en")
    if not answer.answered:
        lines = [status_text(answer.status, texts)]
        if answer.related:
            lines.append(texts.gettext("Closest articles:"))
            lines += [f"  - {citation_line(c, texts)}" for c in answer.related]
        return "\n".join(lines)
    blocks = []
    for n, quote in enumerate(answer.quotes, start=1):
        citation = citation_line(quote.citation, texts)
        block = f"[{n}] “{quoted_text(quote, mark)}”\n    — {citation}"
        if quote.citation.url:
            block += f"\n    {quote.citation.url}"
        blocks.append(block)
    return "\n\n".join(blocks)
