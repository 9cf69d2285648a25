"""Alert subscriptions: /subscribe, /unsubscribe, /subscriptions, /silent, and keeping
chats' reachability in step with Telegram (blocked, kicked, migrated).

Every store call runs in a worker thread (``asyncio.to_thread``): a reload may be writing
to the database, and the event loop must never wait for it.
"""

from __future__ import annotations

import asyncio

from telegram import ChatMember, ChatMemberUpdated, Update

from bot.alerts.topics import Topic
from bot.commands import echo
from bot.errors import StoreError, TooManyTopics, TopicTooLong
from bot.i18n import Texts
from bot.store import SubscriptionStore, normalise_topic
from bot.telegram_app.context import (
    Context,
    may_change_chat,
    reader_language,
    reader_texts,
    services,
    unless_unchanged,
)
from bot.telegram_app.keyboards import (
    STALE_BUTTON,
    describe_topic,
    parse_unsubscribe,
    topic_key,
    topics_keyboard,
)


def _summary(topics: list[str], texts: Texts) -> str:
    if not topics:
        return texts.gettext("You have no alert subscriptions. /subscribe to get new articles.")
    lines = [texts.gettext("Your alerts:")]
    lines += [texts.gettext("• {topic}", topic=describe_topic(t, texts)) for t in topics]
    return "\n".join(lines)


def _refusal(exc: StoreError, texts: Texts, store: SubscriptionStore) -> str:
    """What the reader is told when the store refuses a subscription."""
    if isinstance(exc, TopicTooLong):
        return texts.ngettext(
            "A topic can be at most {n} character long.",
            "A topic can be at most {n} characters long.",
            store.max_topic_length,
        )
    if isinstance(exc, TooManyTopics):
        return texts.ngettext(
            "You can follow at most {n} topic; unsubscribe from one first.",
            "You can follow at most {n} topics; unsubscribe from one first.",
            store.max_topics,
        )
    return str(exc)


async def on_subscribe(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if not await may_change_chat(update, context, texts):
        return
    chat = update.effective_chat
    s = services(context)
    store = s.subscriptions
    topic = " ".join(context.args or [])
    parsed = Topic.parse(topic, s.engine.analyzer, s.current_index().languages)
    if topic.strip() and normalise_topic(topic) and not (parsed.include or parsed.exclude):
        await update.effective_message.reply_text(
            texts.gettext(
                "“{topic}” has no words I can match articles on. Try names or subjects, "
                "e.g. /subscribe elections, or /subscribe alone for every new article.",
                topic=echo(topic),
            )
        )
        return
    language = reader_language(update)

    def subscribe() -> tuple[bool, list[str]]:
        created = store.subscribe(
            chat.id, topic, chat_type=chat.type, title=chat.title or "", reader_language=language
        )
        return created, store.topics(chat.id)

    try:
        created, topics = await asyncio.to_thread(subscribe)
    except StoreError as exc:
        await update.effective_message.reply_text(_refusal(exc, texts, store))
        return
    described = describe_topic(normalise_topic(topic), texts)
    head = (
        texts.gettext("Subscribed to {topic}.", topic=described)
        if created
        else texts.gettext("You were already subscribed to {topic}.", topic=described)
    )
    await update.effective_message.reply_text(f"{head}\n\n{_summary(topics, texts)}")


async def on_unsubscribe(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if not await may_change_chat(update, context, texts):
        return
    chat_id = update.effective_chat.id
    store = services(context).subscriptions
    topic = " ".join(context.args or [])

    def unsubscribe() -> tuple[str, list[str]]:
        if not topic.strip():
            head = texts.gettext("Usage: /unsubscribe <topic>, or /unsubscribe all")
        elif topic.strip().casefold() == "all":
            removed = store.unsubscribe_all(chat_id)
            head = texts.ngettext(
                "Removed {n} subscription.", "Removed {n} subscriptions.", removed
            )
        elif store.unsubscribe(chat_id, topic):
            head = texts.gettext("Unsubscribed.")
        else:
            head = texts.gettext("You were not subscribed to “{topic}”.", topic=echo(topic))
        return head, store.topics(chat_id)

    head, topics = await asyncio.to_thread(unsubscribe)
    await update.effective_message.reply_text(f"{head}\n\n{_summary(topics, texts)}")


async def on_subscriptions(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    store = services(context).subscriptions
    topics = await asyncio.to_thread(store.topics, update.effective_chat.id)
    await update.effective_message.reply_text(
        _summary(topics, texts), reply_markup=topics_keyboard(topics, texts)
    )


async def on_unsubscribe_button(update: Update, context: Context) -> None:
    query = update.callback_query
    texts = reader_texts(update, context)
    key = parse_unsubscribe(query.data)
    if key is None or update.effective_chat is None:
        await query.answer(texts.gettext(STALE_BUTTON))
        return
    if not await may_change_chat(update, context, texts):
        await query.answer()
        return
    store = services(context).subscriptions
    chat_id = update.effective_chat.id

    def remove() -> tuple[bool, list[str]]:
        topic = next((t for t in store.topics(chat_id) if topic_key(t) == key), None)
        removed = topic is not None and store.unsubscribe(chat_id, topic)
        return removed, store.topics(chat_id)

    removed, topics = await asyncio.to_thread(remove)
    await query.answer(
        texts.gettext("Removed.")
        if removed
        else texts.gettext("That subscription was already gone.")
    )
    await unless_unchanged(
        query.edit_message_text(
            _summary(topics, texts), reply_markup=topics_keyboard(topics, texts)
        )
    )


async def on_silent(update: Update, context: Context) -> None:
    texts = reader_texts(update, context)
    if not await may_change_chat(update, context, texts):
        return
    store = services(context).subscriptions
    chat_id = update.effective_chat.id
    arg = (context.args or [""])[0].casefold()
    if arg not in ("on", "off"):
        silent = await asyncio.to_thread(store.is_silent, chat_id)
        await update.effective_message.reply_text(
            texts.gettext("Silent alerts are on. Use /silent on or /silent off.")
            if silent
            else texts.gettext("Silent alerts are off. Use /silent on or /silent off.")
        )
        return
    if not await asyncio.to_thread(store.set_silent, chat_id, arg == "on"):
        await update.effective_message.reply_text(texts.gettext("Subscribe first with /subscribe."))
        return
    await update.effective_message.reply_text(
        texts.gettext("Alerts will arrive silently.")
        if arg == "on"
        else texts.gettext("Alerts will arrive with a notification.")
    )


async def on_my_chat_member(update: Update, context: Context) -> None:
    """Blocked, kicked or left: stop alerts; added back: resume them."""
    change: ChatMemberUpdated = update.my_chat_member
    store = services(context).subscriptions
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        await asyncio.to_thread(store.deactivate, change.chat.id, f"bot {status}")
    elif status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR):
        await asyncio.to_thread(store.reactivate, change.chat.id)


async def on_migrate(update: Update, context: Context) -> None:
    """A group became a supergroup: its subscriptions follow it to the new chat id."""
    message = update.effective_message
    if message.migrate_to_chat_id:
        store = services(context).subscriptions
        await asyncio.to_thread(store.migrate_chat, message.chat_id, message.migrate_to_chat_id)
        languages = context.bot_data.languages
        if message.chat_id in languages:
            languages.setdefault(message.migrate_to_chat_id, languages.pop(message.chat_id))
