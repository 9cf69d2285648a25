"""Inline mode: ``@bot question`` in any chat lists quotes; choosing one posts it.

An inline query comes from no chat, so its texts follow the reader's Telegram language (or
BOT_LANGUAGE), not a chat's ``/language`` choice.
"""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from bot.answers.render_text import quoted_text
from bot.telegram_app.context import Context, reader_texts, services
from bot.telegram_app.render import quote_html

MAX_RESULTS = 10  # Telegram allows 50; more quotes than this are rarely useful on a phone


async def on_inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    s = services(context)
    texts = reader_texts(update, context)  # an inline query has no chat: the reader's language
    answer = s.engine.ask(query.query) if query.query.strip() else None
    results = [
        InlineQueryResultArticle(
            # article id (16 hex) + offset: unique per quote, far below Telegram's 64 bytes
            id=f"{q.citation.article_id}:{q.start}",
            title=q.citation.title[:200] or texts.gettext("Untitled"),
            description=quoted_text(q)[:200],
            input_message_content=InputTextMessageContent(
                quote_html(q, texts), parse_mode=ParseMode.HTML, disable_web_page_preview=True
            ),
            url=q.citation.url or None,
        )
        for q in (answer.quotes[:MAX_RESULTS] if answer else [])
    ]
    # Personal: the citations are in the reader's language, so Telegram must not hand one
    # reader's cached results to another.
    await query.answer(results, cache_time=60, is_personal=True)
