"""What handlers share, typed with PTB's ``ContextTypes``: :class:`BotData` is
``context.bot_data``, :class:`ChatData` is ``context.chat_data``; plus admin checks and the
reader's texts."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.alerts.delivery import AlertDelivery
from bot.articles.languages import language_code
from bot.i18n import Texts, choose_texts
from bot.services import Services
from bot.store import StoredQuery


class UnsavedQueries:
    """Stored questions whose message is out but whose row is not written yet (the store
    was busy): a "More" press or a follow-up in that moment still finds them."""

    def __init__(self) -> None:
        self._by_token: dict[str, StoredQuery] = {}
        self._by_message: dict[tuple[int, int | None], StoredQuery] = {}

    def add(self, token: str, row: StoredQuery) -> None:
        self._by_token[token] = row
        self._by_message[row.chat_id, row.message_id] = row

    def discard(self, token: str) -> None:
        row = self._by_token.pop(token, None)
        if row is not None and self._by_message.get((row.chat_id, row.message_id)) is row:
            del self._by_message[row.chat_id, row.message_id]

    def get(self, token: str) -> StoredQuery | None:
        return self._by_token.get(token)

    def for_message(self, chat_id: int, message_id: int) -> StoredQuery | None:
        """The latest row for the bot's message ``message_id``, as the store's own lookup."""
        return self._by_message.get((chat_id, message_id))


class BotData:
    """Shared by every handler and job; filled in by ``post_init`` (:meth:`open`)."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._delivery: AlertDelivery | None = None
        self.catch_up: asyncio.Task | None = None  # the start-up alert catch-up
        self.delivery_task: asyncio.Task | None = None  # the running drain of the outbox
        self.unsaved_queries = UnsavedQueries()
        # Chats' /language choices, read once at start-up and kept in step by /language: a
        # reply never waits for the store (a reload may be holding it) to know its language.
        self.languages: dict[int, str] = {}

    def open(self, services: Services, delivery: AlertDelivery) -> None:
        self._services, self._delivery = services, delivery
        self.languages = services.subscriptions.chosen_languages()

    async def stop_tasks(self) -> None:
        """Cancel the catch-up and the drain, and wait for them (idempotent). Alerts being
        sent stay leased in the outbox and go out after the next start."""
        tasks = [t for t in (self.catch_up, self.delivery_task) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def is_open(self) -> bool:
        return self._services is not None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the bot's services are not open yet (post_init has not run)")
        return self._services

    @property
    def delivery(self) -> AlertDelivery:
        if self._delivery is None:
            raise RuntimeError("the bot's services are not open yet (post_init has not run)")
        return self._delivery


class ChatData:
    """Per chat: which bot message answers which question message (to edit it when the
    question is edited), the most recent ``REMEMBERED_ANSWERS``."""

    REMEMBERED_ANSWERS = 200

    def __init__(self) -> None:
        self.answers: OrderedDict[int, int] = OrderedDict()

    def remember_answer(self, question_id: int, answer_id: int) -> None:
        self.answers[question_id] = answer_id
        while len(self.answers) > self.REMEMBERED_ANSWERS:
            self.answers.popitem(last=False)


Context = CallbackContext[ExtBot[None], dict, ChatData, BotData]  # for annotations
CONTEXT_TYPES = ContextTypes(bot_data=BotData, chat_data=ChatData)


def services(context: Context) -> Services:
    return context.bot_data.services


def reader_language(update: Update) -> str:
    """The ISO 639-1 code of the reader's Telegram language ("" when Telegram sent none)."""
    user = update.effective_user
    return language_code(user.language_code or "") if user is not None else ""


def chosen_language(update: Update, context: Context) -> str | None:
    """The chat's ``/language`` choice, None when it made none."""
    chat = update.effective_chat
    return context.bot_data.languages.get(chat.id) if chat is not None else None


def reader_texts(update: Update, context: Context) -> Texts:
    """The texts for this update's reply: the chat's choice, else the reader's Telegram
    language, else BOT_LANGUAGE, else English (:func:`bot.i18n.choose_texts`)."""
    return choose_texts(
        chosen_language(update, context),
        reader_language(update),
        services(context).config.language,
    )


async def may_change_chat(update: Update, context: Context, texts: Texts) -> bool:
    """In groups only the group's admins may change its settings (alerts, language)."""
    chat = update.effective_chat
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.message
    if (
        message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    ):
        return True  # an anonymous admin, writing as the group itself
    user = update.effective_user
    if user is not None:
        member = await context.bot.get_chat_member(chat.id, user.id)
        if member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER):
            return True
    await update.effective_message.reply_text(
        texts.gettext("Only this group's admins can change its settings.")
    )
    return False


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).config.admins


async def unless_unchanged(edit: Awaitable[object]) -> None:
    """Run an edit; Telegram's "message is not modified" (a button pressed twice, an edit
    with the same text) means there is nothing to do, not an error."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise
