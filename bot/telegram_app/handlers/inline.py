"""Inline mode: ``@bot question`` in any chat lists quotes; choosing one posts it."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from bot.answers.render_text import quoted_text
from bot.telegram_app.context import Context, services
from bot.telegram_app.render import quote_html

MAX_RESULTS = 10  # Telegram allows 50; more quotes than this are rarely useful on a phone


async def on_inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    answer = services(context).engine.ask(query.query) if query.query.strip() else None
    results = [
        InlineQueryResultArticle(
            # article id (16 hex) + offset: unique per quote, far below Telegram's 64 bytes
            id=f"{q.citation.article_id}:{q.start}",
            title=q.citation.title[:200] or "Untitled",
            description=quoted_text(q)[:200],
            input_message_content=InputTextMessageContent(
                quote_html(q), parse_mode=ParseMode.HTML, disable_web_page_preview=True
            ),
            url=q.citation.url or None,
        )
        for q in (answer.quotes[:MAX_RESULTS] if answer else [])
    ]
    await query.answer(results, cache_time=60, is_personal=False)
