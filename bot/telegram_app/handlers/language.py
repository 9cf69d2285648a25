"""``/language``: a chat chooses the language of the bot's texts (a button per language the
bot has, or back to each reader's Telegram language; ``/language es`` chooses at once). The
choice is stored with the chat, so its alerts follow it, and the chat's command menu too."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from telegram import Update
from telegram.constants import ChatType

from bot.i18n import Texts, available_languages
from bot.telegram_app.context import (
    Context,
    chosen_language,
    is_admin,
    may_change_chat,
    reader_texts,
    services,
    unless_unchanged,
)
from bot.telegram_app.keyboards import (
    AUTOMATIC,
    STALE_BUTTON,
    TRY_AGAIN,
    language_choice,
    language_keyboard,
    parse_language,
)
from bot.telegram_app.menus import set_chat_menu

log = logging.getLogger(__name__)


def _state(chosen: str | None, texts: Texts) -> str:
    """What the chat's language is now, above the buttons (in that language)."""
    if chosen is None:
        return texts.gettext(
            "My replies follow each reader's Telegram language (for you: {language}). "
            "Choose one for this chat:",
            language=texts.name,
        )
    return texts.gettext(
        "My replies in this chat are in {language}. Choose another:", language=texts.name
    )


async def on_language(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    message = update.effective_message
    if not context.args:
        chosen = chosen_language(update, context)
        await message.reply_text(
            _state(chosen, texts), reply_markup=language_keyboard(chosen, texts)
        )
        return
    choice = language_choice(context.args[0].casefold())
    if choice is None:
        await message.reply_text(
            texts.gettext(
                "I have no texts in “{language}”. I have: {languages}.",
                language=context.args[0][:20],
                languages=", ".join((*available_languages(), AUTOMATIC)),
            )
        )
        return
    if not await may_change_chat(update, context, texts):
        return
    chosen = None if choice == AUTOMATIC else choice
    if not await _store_choice(update, context, chosen):
        await message.reply_text(texts.gettext(TRY_AGAIN))
        return
    texts = reader_texts(update, context)
    await message.reply_text(_state(chosen, texts), reply_markup=language_keyboard(chosen, texts))


async def on_language_button(update: Update, context: Context) -> None:
    query = update.callback_query
    texts = reader_texts(update, context)
    choice = parse_language(query.data)
    if choice is None or update.effective_chat is None:
        await query.answer(texts.gettext(STALE_BUTTON))
        return
    if not await may_change_chat(update, context, texts):
        await query.answer()
        return
    chosen = None if choice == AUTOMATIC else choice
    if not await _store_choice(update, context, chosen):
        await query.answer(texts.gettext(TRY_AGAIN))
        return
    texts = reader_texts(update, context)
    await query.answer(texts.name)
    await unless_unchanged(
        query.edit_message_text(
            _state(chosen, texts), reply_markup=language_keyboard(chosen, texts)
        )
    )


async def _store_choice(update: Update, context: Context, chosen: str | None) -> bool:
    """Store the chat's choice (None: back to Telegram's language) and set its command menu;
    False when the store failed (nothing changed then)."""
    chat = update.effective_chat
    s = services(context)
    try:
        await asyncio.to_thread(
            s.subscriptions.set_language, chat.id, chosen, chat.type, chat.title or ""
        )
    except sqlite3.Error as exc:
        log.error("could not store a chat's language: %s", exc)
        return False
    if chosen is None:
        context.bot_data.languages.pop(chat.id, None)
    else:
        context.bot_data.languages[chat.id] = chosen
    admin = chat.type == ChatType.PRIVATE and is_admin(update, context)
    await set_chat_menu(context.bot, chat.id, admin, chosen, s.config.language)
    return True
