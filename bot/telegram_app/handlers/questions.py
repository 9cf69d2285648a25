"""Readers' questions: private messages, /ask, replies in groups, edits, "More", deep links,
follow-ups and "Ask about this article".

A message replying to one of the bot's answers is a follow-up: it is asked with the answered
question as context (its terms count with a lower weight, ``AnswerSettings.context_weight``)
and, if that answer was scoped to one article, about that article only. "Ask about this
article" sends a prompt the reader replies to; the prompt's row carries the article, so the
reply is scoped to it, and so are replies to that answer in turn.

The answer goes out first; what is recorded about it (its question, for "More" and
follow-ups; the keys of its articles' "Ask about" buttons; the count for /stats) is written
afterwards, off the event loop, and a failure there (a full disk, a busy database) is logged
and never reaches the reader.
"""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import sqlite3

from telegram import ForceReply, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.answers.model import Answer, AskContext
from bot.commands import EXAMPLE_QUESTION, help_text
from bot.i18n import N_, Texts
from bot.store import StoredQuery, new_token
from bot.telegram_app.context import (
    Context,
    is_admin,
    reader_texts,
    services,
    unless_unchanged,
)
from bot.telegram_app.keyboards import (
    STALE_BUTTON,
    TRY_AGAIN,
    Reply,
    answer_reply,
    parse_about,
    parse_more,
)
from bot.telegram_app.render import article_list, shorten

log = logging.getLogger(__name__)

LATEST = 8  # articles listed by /latest
PROMPT_TITLE_CHARS = 80
ARTICLE_GONE = N_("This article is no longer available.")  # an Ask press that resolves to none


async def answer_question(update: Update, context: Context, question: str) -> None:
    """Answer in the chat (as a follow-up when the message replies to one of the bot's
    answers), or edit the earlier answer when the question was edited."""
    message = update.effective_message
    texts = reader_texts(update, context)
    followed = await _followed_up(update, context)
    previous = followed.question if followed else ""
    article_id = followed.article_id if followed else None
    if article_id and services(context).current_index().article(article_id) is None:
        article_id = None  # the article left the archive: the whole archive answers
    answer = services(context).engine.ask(question, AskContext(previous, article_id or ""))
    token = new_token()
    reply = answer_reply(answer, token, texts)
    # Its "Ask about" buttons work from the moment they are out; the keys are written after.
    keys = services(context).article_keys
    new_keys = keys.claim(reply.asked_about)
    answer_id = await _send_or_edit(update, context, reply)  # on failure, the keys stay pending
    context.chat_data.remember_answer(message.message_id, answer_id)
    # A reply to this answer stays about the same article, and "More" asks the same way.
    row = StoredQuery(message.chat_id, answer_id, answer.question, article_id, previous)
    context.bot_data.unsaved_queries.add(token, row)  # until written, "More" finds it here
    context.application.create_task(
        keep_records(context, token, row, answer, reply, new_keys, texts),
        update=update,
        name="keep-records",
    )


async def _followed_up(update: Update, context: Context) -> StoredQuery | None:
    """The stored row of the bot's message this message replies to: an answer, or a prompt
    of "Ask about this article". None for any other message, and when the store fails (the
    question is then answered on its own)."""
    message = update.effective_message
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return None
    row = context.bot_data.unsaved_queries.for_message(message.chat_id, replied.message_id)
    if row is not None:
        return row
    try:
        return await asyncio.to_thread(
            services(context).queries.for_message, message.chat_id, replied.message_id
        )
    except sqlite3.Error as exc:
        log.error("could not read the question a follow-up replies to: %s", exc)
        return None


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
    token: str,
    row: StoredQuery,
    answer: Answer,
    reply: Reply,
    new_keys: list[str],
    texts: Texts,
) -> None:
    """After the answer is out: store its question under ``token`` (held in
    ``unsaved_queries`` meanwhile), write the keys of its articles' "Ask about" buttons
    that this process had not (``new_keys``, claimed meanwhile), then count the question.
    A "More" button whose question could not be stored is removed; without the row, a
    reply to the answer is asked as a new question."""
    s = services(context)
    if not await _store_query(context, token, row) and reply.more:
        await _drop_more_button(context, row, answer, texts)
    await _save_article_keys(context, new_keys)
    try:
        await asyncio.to_thread(s.activity.record_question, row.chat_id, answer.answered)
    except sqlite3.Error as exc:
        log.error("could not count a question: %s", exc)


async def _store_query(context: Context, token: str, row: StoredQuery) -> bool:
    """Write ``row`` under ``token`` and take it out of ``unsaved_queries``; False (logged)
    if it could not be written."""
    try:
        return await asyncio.to_thread(services(context).queries.save, token, row)
    except sqlite3.Error as exc:
        log.error("could not store the question of an answer: %s", exc)
        return False
    finally:
        context.bot_data.unsaved_queries.discard(token)


async def _save_article_keys(context: Context, claimed: list[str]) -> None:
    """Write the "Ask about" keys this process has just claimed (a press before the write
    finds them in memory); a failure is logged, and they stay pending for the next write."""
    if not claimed:
        return
    try:
        await asyncio.to_thread(services(context).article_keys.save, claimed)
    except sqlite3.Error as exc:
        log.error("could not register article keys: %s", exc)


async def _drop_more_button(
    context: Context, row: StoredQuery, answer: Answer, texts: Texts
) -> None:
    try:
        await unless_unchanged(
            context.bot.edit_message_reply_markup(
                row.chat_id,
                row.message_id,
                reply_markup=answer_reply(answer, None, texts).keyboard,
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
    asked = AskContext(stored.previous_question, stored.article_id or "")
    answer = services(context).engine.ask(stored.question, asked)
    if press.first >= len(answer.quotes):
        await query.answer(texts.gettext("No more quotes."))
        await _remove_buttons(query)
        return
    reply = answer_reply(answer, press.token, texts, press.first)
    keys = services(context).article_keys.claim(reply.asked_about)  # before the buttons show
    await query.answer()
    await unless_unchanged(
        query.edit_message_text(
            reply.html,
            parse_mode=ParseMode.HTML,
            reply_markup=reply.keyboard,
            disable_web_page_preview=True,
        )
    )
    # Articles first shown on this page (new since a reload, say) get their keys written.
    await _save_article_keys(context, keys)


async def on_about(update: Update, context: Context) -> None:
    """ "Ask about this article": a prompt the reader answers by replying to it; its row
    scopes that reply to the article."""
    query = update.callback_query
    texts = reader_texts(update, context)
    key = parse_about(query.data)
    message = query.message
    if key is None or not isinstance(message, Message):  # forged, or too old
        await query.answer(texts.gettext(STALE_BUTTON))
        return
    s = services(context)
    try:
        article_id = await asyncio.to_thread(s.article_keys.article_for, key)
    except sqlite3.Error as exc:
        log.error("could not read an article key: %s", exc)
        await query.answer(texts.gettext(TRY_AGAIN))
        return
    article = s.current_index().article(article_id) if article_id else None
    if article is None:  # an unknown key, or the article left the archive
        await query.answer(texts.gettext(ARTICLE_GONE))
        return
    await query.answer()
    prompt_html = texts.html(
        "Ask your question about “{title}”.", title=shorten(article.title, PROMPT_TITLE_CHARS)
    )
    user = update.effective_user
    if message.chat.type != ChatType.PRIVATE and user is not None:
        # ForceReply(selective) opens the reply field for users the message mentions.
        prompt_html = f"{user.mention_html()}: {prompt_html}"
    prompt = await context.bot.send_message(
        message.chat_id,
        prompt_html,
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(
            selective=True,
            # TRANSLATORS: shown in the reader's empty reply field (at most 64 characters).
            input_field_placeholder=texts.gettext("Your question about this article"),
        ),
    )
    token = new_token()
    row = StoredQuery(message.chat_id, prompt.message_id, "", article.id)
    context.bot_data.unsaved_queries.add(token, row)
    if not await _store_query(context, token, row):  # the reply still finds it in memory
        context.bot_data.unsaved_queries.add(token, row)


async def _remove_buttons(query) -> None:
    await unless_unchanged(query.edit_message_reply_markup(None))


async def on_non_text(update: Update, context: Context) -> None:
    message: Message = update.effective_message
    texts = reader_texts(update, context)
    await message.reply_text(texts.gettext("I can only read text. Please type your question."))
