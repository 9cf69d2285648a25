"""Readers' questions: private messages, /ask, replies in groups, edits, "More", deep links.

The answer goes out first; what is recorded about it (the question behind its "More"
button, the count for /stats) is written afterwards, off the event loop, and a failure there
(a full disk, a busy database) is logged and never reaches the reader.
"""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import sqlite3

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.answers.model import Answer
from bot.commands import EXAMPLE_QUESTION, help_text
from bot.i18n import Texts
from bot.store import StoredQuery, new_token
from bot.telegram_app.context import (
    Context,
    is_admin,
    reader_texts,
    services,
    unless_unchanged,
)
from bot.telegram_app.keyboards import STALE_BUTTON, TRY_AGAIN, Reply, answer_reply, parse_more
from bot.telegram_app.render import article_list

log = logging.getLogger(__name__)

LATEST = 8  # articles listed by /latest


async def answer_question(update: Update, context: Context, question: str) -> None:
    """Answer in the chat, or edit the earlier answer when the question was edited."""
    message = update.effective_message
    texts = reader_texts(update, context)
    answer = services(context).engine.ask(question)
    token = new_token() if answer.answered else None
    reply = answer_reply(answer, token, texts)
    answer_id = await _send_or_edit(update, context, reply)
    context.chat_data.remember_answer(message.message_id, answer_id)
    more_token = token if reply.more else None
    if more_token:  # until its row is written (the store may be busy), "More" finds it here
        unsaved = StoredQuery(message.chat_id, answer_id, answer.question)
        context.bot_data.unsaved_queries[more_token] = unsaved
    context.application.create_task(
        keep_records(context, message.chat_id, answer_id, answer, more_token, texts),
        update=update,
        name="keep-records",
    )


async def _send_or_edit(update: Update, context: Context, reply: Reply) -> int:
    """The message id of the answer: the earlier one, edited, for an edited question."""
    message = update.effective_message
    earlier = context.chat_data.answers.get(message.message_id)
    if update.edited_message and earlier is not None:
        try:
            await unless_unchanged(
                context.bot.edit_message_text(
                    reply.html,
                    chat_id=message.chat_id,
                    message_id=earlier,
                    parse_mode=ParseMode.HTML,
                    reply_markup=reply.keyboard,
                    disable_web_page_preview=True,
                )
            )
            return earlier
        except BadRequest as exc:  # e.g. the answer was deleted: answer anew
            log.info("could not edit earlier answer (%s); sending a new one", exc)
    sent = await message.reply_html(
        reply.html, reply_markup=reply.keyboard, disable_web_page_preview=True
    )
    return sent.message_id


async def keep_records(
    context: Context,
    chat_id: int,
    answer_id: int,
    answer: Answer,
    token: str | None,
    texts: Texts,
) -> None:
    """After the answer is out: store the question behind its "More" button (``token``,
    held in ``unsaved_queries`` meanwhile), then count the question. A "More" button whose
    question could not be stored is removed."""
    s = services(context)
    if token is not None:
        try:
            saved = await asyncio.to_thread(
                s.queries.save, token, chat_id, answer_id, answer.question
            )
        except sqlite3.Error as exc:
            log.error("could not store the question behind a More button: %s", exc)
            saved = False
        finally:
            del context.bot_data.unsaved_queries[token]
        if not saved:
            await _drop_more_button(context, chat_id, answer_id, answer, texts)
    try:
        await asyncio.to_thread(s.activity.record_question, chat_id, answer.answered)
    except sqlite3.Error as exc:
        log.error("could not count a question: %s", exc)


async def _drop_more_button(
    context: Context, chat_id: int, answer_id: int, answer: Answer, texts: Texts
) -> None:
    try:
        await unless_unchanged(
            context.bot.edit_message_reply_markup(
                chat_id, answer_id, reply_markup=answer_reply(answer, None, texts).keyboard
            )
        )
    except TelegramError as exc:  # the answer was deleted meanwhile, say: nothing to fix
        log.warning("could not remove a More button: %s", exc)


async def on_private_text(update: Update, context: Context) -> None:
    await answer_question(update, context, update.effective_message.text)


async def on_group_reply(update: Update, context: Context) -> None:
    """Group privacy mode delivers replies to the bot: treat them as questions."""
    message = update.effective_message
    replied = message.reply_to_message
    if (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == context.bot.id
    ):
        await answer_question(update, context, message.text)


async def on_ask(update: Update, context: Context) -> None:
    question = " ".join(context.args or [])
    if not question.strip():
        texts = reader_texts(update, context)
        await update.effective_message.reply_html(
            texts.html(
                "Usage: /ask &lt;question&gt;\nFor example: /ask {question}",
                question=EXAMPLE_QUESTION,
            )
        )
        return
    await answer_question(update, context, question)


def question_payload(question: str) -> str:
    """A /start deep-link payload carrying a question (Telegram allows 64 chars [A-Za-z0-9_-])."""
    return "q" + base64.urlsafe_b64encode(question.encode()).decode().rstrip("=")


def _payload_question(payload: str) -> str | None:
    if not payload.startswith("q"):
        return None
    data = payload[1:]
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
    except ValueError:  # not base64 (binascii.Error) or not UTF-8 (UnicodeDecodeError)
        return None


async def on_start(update: Update, context: Context) -> None:
    question = _payload_question(context.args[0]) if context.args else None
    if question:
        await answer_question(update, context, question)
        return
    texts = reader_texts(update, context)
    await update.effective_message.reply_html(
        texts.html(
            "Hello! I answer questions about our newsroom's articles with quotes from them, "
            "each with its source.\n\n"
            "Try: <i>{question}</i>\n\n"
            "/subscribe to get new articles, /language to choose my language, /help for "
            "everything else.",
            question=EXAMPLE_QUESTION,
        )
    )


async def on_help(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    await update.effective_message.reply_html(
        html.escape(help_text(is_admin(update, context), texts))
    )


async def on_latest(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    newest = services(context).current_index().newest(LATEST)
    await update.effective_message.reply_html(
        article_list(newest, texts.gettext("Latest articles"), texts), disable_web_page_preview=True
    )


async def on_more(update: Update, context: Context) -> None:
    """Next quotes of a stored question, in the same message it was asked for."""
    query = update.callback_query
    texts = reader_texts(update, context)
    press = parse_more(query.data)
    message = query.message
    if press is None or not isinstance(message, Message):  # forged, or too old to edit
        await query.answer(texts.gettext(STALE_BUTTON))
        return
    stored = context.bot_data.unsaved_queries.get(press.token)
    if stored is None:
        try:
            stored = await asyncio.to_thread(services(context).queries.load, press.token)
        except sqlite3.Error as exc:
            log.error("could not read a stored question: %s", exc)
            await query.answer(texts.gettext(TRY_AGAIN))
            return
    if stored is None:
        await query.answer(texts.gettext("This answer has expired. Please ask again."))
        await _remove_buttons(query)
        return
    if not stored.belongs_to(message.chat_id, message.message_id):
        await query.answer(texts.gettext(STALE_BUTTON))
        return
    answer = services(context).engine.ask(stored.question)
    if press.first >= len(answer.quotes):
        await query.answer(texts.gettext("No more quotes."))
        await _remove_buttons(query)
        return
    reply = answer_reply(answer, press.token, texts, press.first)
    await query.answer()
    await unless_unchanged(
        query.edit_message_text(
            reply.html,
            parse_mode=ParseMode.HTML,
            reply_markup=reply.keyboard,
            disable_web_page_preview=True,
        )
    )


async def _remove_buttons(query) -> None:
    await unless_unchanged(query.edit_message_reply_markup(None))


async def on_non_text(update: Update, context: Context) -> None:
    message: Message = update.effective_message
    texts = reader_texts(update, context)
    await message.reply_text(texts.gettext("I can only read text. Please type your question."))
