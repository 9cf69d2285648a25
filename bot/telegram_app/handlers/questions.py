"""Readers' questions: private messages, /ask, replies in groups, edits, "More", deep links."""

from __future__ import annotations

import base64
import html
import logging
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.answers.model import Answer
from bot.commands import EXAMPLE_QUESTION, help_text
from bot.telegram_app.context import Context, is_admin, services, unless_unchanged
from bot.telegram_app.render import answer_page, article_list, unanswered_html

log = logging.getLogger(__name__)

MORE_PREFIX = "more"
LATEST = 8  # articles listed by /latest
REMEMBERED_ANSWERS = 200  # per chat: which bot message answers which question (for edits)


def _remembered(context: Context) -> OrderedDict[int, int]:
    return context.chat_data.setdefault("answers", OrderedDict())


def _keyboard(answer: Answer, token: str | None, shown: range, next_quote: int):
    rows = []
    if token is not None and next_quote < len(answer.quotes):
        rows.append(
            [InlineKeyboardButton("More ▸", callback_data=f"{MORE_PREFIX}:{token}:{next_quote}")]
        )
    links = {
        q.citation.url: q.citation.title
        for q in (answer.quotes[i] for i in shown)
        if q.citation.url
    }
    rows += [[InlineKeyboardButton(f"Read: {title[:40]}", url=url)] for url, title in links.items()]
    return InlineKeyboardMarkup(rows) if rows else None


def render_reply(answer: Answer, token: str | None, first: int = 0):
    """(html, keyboard) for the page of ``answer`` starting at quote ``first``."""
    if not answer.answered:
        return unanswered_html(answer), None
    text, next_quote = answer_page(answer, first)
    return text, _keyboard(answer, token, range(first, next_quote), next_quote)


async def answer_question(update: Update, context: Context, question: str) -> None:
    """Answer in the chat, or edit the earlier answer when the question was edited."""
    message = update.effective_message
    s = services(context)
    answer = s.engine.ask(question)
    s.activity.record_question(message.chat_id, answer.answered)
    token = s.queries.save(message.chat_id, answer.question) if len(answer.quotes) > 1 else None
    text, keyboard = render_reply(answer, token)
    remembered = _remembered(context)
    if update.edited_message and message.message_id in remembered:
        try:
            await unless_unchanged(
                context.bot.edit_message_text(
                    text,
                    chat_id=message.chat_id,
                    message_id=remembered[message.message_id],
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    disable_web_page_preview=True,
                )
            )
            return
        except BadRequest as exc:  # e.g. the answer was deleted: answer anew
            log.info("could not edit earlier answer (%s); sending a new one", exc)
    sent = await message.reply_html(text, reply_markup=keyboard, disable_web_page_preview=True)
    remembered[message.message_id] = sent.message_id
    while len(remembered) > REMEMBERED_ANSWERS:
        remembered.popitem(last=False)


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
        await update.effective_message.reply_html(
            f"Usage: /ask &lt;question&gt;\nFor example: /ask {html.escape(EXAMPLE_QUESTION)}"
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
    await update.effective_message.reply_html(
        "Hello! I answer questions about our newsroom's articles with quotes from them, "
        "each with its source.\n\n"
        f"Try: <i>{html.escape(EXAMPLE_QUESTION)}</i>\n\n"
        "/subscribe to get new articles, /help for everything else."
    )


async def on_help(update: Update, context: Context) -> None:
    await update.effective_message.reply_html(html.escape(help_text(is_admin(update, context))))


async def on_latest(update: Update, context: Context) -> None:
    newest = services(context).index.newest(LATEST)
    await update.effective_message.reply_html(
        article_list(newest, "Latest articles"), disable_web_page_preview=True
    )


async def on_more(update: Update, context: Context) -> None:
    """Next quotes of a stored question, in the same message."""
    query = update.callback_query
    _, token, first = query.data.split(":")
    stored = services(context).queries.load(token)
    if stored is None:
        await query.answer("This answer has expired. Please ask again.")
        await _remove_buttons(query)
        return
    answer = services(context).engine.ask(stored.question)
    first_quote = int(first)
    if first_quote >= len(answer.quotes):
        await query.answer("No more quotes.")
        await _remove_buttons(query)
        return
    text, keyboard = render_reply(answer, token, first_quote)
    await query.answer()
    await unless_unchanged(
        query.edit_message_text(
            text, parse_mode=ParseMode.HTML, reply_markup=keyboard, disable_web_page_preview=True
        )
    )


async def _remove_buttons(query) -> None:
    await unless_unchanged(query.edit_message_reply_markup(None))


async def on_non_text(update: Update, context: Context) -> None:
    message: Message = update.effective_message
    await message.reply_text("I can only read text. Please type your question.")
