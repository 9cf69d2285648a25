"""Alert subscriptions: /subscribe, /unsubscribe, /subscriptions, /silent, and keeping
chats' reachability in step with Telegram (blocked, kicked, migrated).

Every store call runs in a worker thread (``asyncio.to_thread``): a reload may be writing
to the database, and the event loop must never wait for it.
"""

from __future__ import annotations

import asyncio

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType

from bot.alerts.topics import Topic
from bot.commands import echo
from bot.errors import StoreError
from bot.store import normalise_topic
from bot.telegram_app.context import Context, services, unless_unchanged
from bot.telegram_app.keyboards import (
    STALE_BUTTON,
    describe_topic,
    parse_unsubscribe,
    topic_key,
    topics_keyboard,
)


def _summary(topics: list[str]) -> str:
    if not topics:
        return "You have no alert subscriptions. /subscribe to get new articles."
    lines = ["Your alerts:"] + [f"• {describe_topic(t)}" for t in topics]
    return "\n".join(lines)


async def _may_change(update: Update, context: Context) -> bool:
    """In groups only the group's admins may change its subscriptions."""
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
    await update.effective_message.reply_text("Only this group's admins can change its alerts.")
    return False


async def on_subscribe(update: Update, context: Context) -> None:
    if not await _may_change(update, context):
        return
    chat = update.effective_chat
    s = services(context)
    store = s.subscriptions
    topic = " ".join(context.args or [])
    parsed = Topic.parse(topic, s.engine.analyzer, s.current_index().languages)
    if topic.strip() and normalise_topic(topic) and not (parsed.include or parsed.exclude):
        await update.effective_message.reply_text(
            f"“{echo(topic)}” has no words I can match articles on. Try names or subjects, "
            "e.g. /subscribe elections, or /subscribe alone for every new article."
        )
        return

    def subscribe() -> tuple[bool, list[str]]:
        created = store.subscribe(chat.id, topic, chat_type=chat.type, title=chat.title or "")
        return created, store.topics(chat.id)

    try:
        created, topics = await asyncio.to_thread(subscribe)
    except StoreError as exc:
        await update.effective_message.reply_text(str(exc))
        return
    head = "Subscribed to" if created else "You were already subscribed to"
    await update.effective_message.reply_text(
        f"{head} {describe_topic(normalise_topic(topic))}.\n\n{_summary(topics)}"
    )


async def on_unsubscribe(update: Update, context: Context) -> None:
    if not await _may_change(update, context):
        return
    chat_id = update.effective_chat.id
    store = services(context).subscriptions
    topic = " ".join(context.args or [])

    def unsubscribe() -> tuple[str, list[str]]:
        if not topic.strip():
            head = "Usage: /unsubscribe <topic>, or /unsubscribe all"
        elif topic.strip().casefold() == "all":
            head = f"Removed {store.unsubscribe_all(chat_id)} subscription(s)."
        elif store.unsubscribe(chat_id, topic):
            head = "Unsubscribed."
        else:
            head = f"You were not subscribed to “{echo(topic)}”."
        return head, store.topics(chat_id)

    head, topics = await asyncio.to_thread(unsubscribe)
    await update.effective_message.reply_text(f"{head}\n\n{_summary(topics)}")


async def on_subscriptions(update: Update, context: Context) -> None:
    store = services(context).subscriptions
    topics = await asyncio.to_thread(store.topics, update.effective_chat.id)
    await update.effective_message.reply_text(
        _summary(topics), reply_markup=topics_keyboard(topics)
    )


async def on_unsubscribe_button(update: Update, context: Context) -> None:
    query = update.callback_query
    key = parse_unsubscribe(query.data)
    if key is None or update.effective_chat is None:
        await query.answer(STALE_BUTTON)
        return
    if not await _may_change(update, context):
        await query.answer()
        return
    store = services(context).subscriptions
    chat_id = update.effective_chat.id

    def remove() -> tuple[bool, list[str]]:
        topic = next((t for t in store.topics(chat_id) if topic_key(t) == key), None)
        removed = topic is not None and store.unsubscribe(chat_id, topic)
        return removed, store.topics(chat_id)

    removed, topics = await asyncio.to_thread(remove)
    await query.answer("Removed." if removed else "That subscription was already gone.")
    await unless_unchanged(
        query.edit_message_text(_summary(topics), reply_markup=topics_keyboard(topics))
    )


async def on_silent(update: Update, context: Context) -> None:
    if not await _may_change(update, context):
        return
    store = services(context).subscriptions
    chat_id = update.effective_chat.id
    arg = (context.args or [""])[0].casefold()
    if arg not in ("on", "off"):
        state = "on" if await asyncio.to_thread(store.is_silent, chat_id) else "off"
        await update.effective_message.reply_text(
            f"Silent alerts are {state}. Use /silent on or /silent off."
        )
        return
    if not await asyncio.to_thread(store.set_silent, chat_id, arg == "on"):
        await update.effective_message.reply_text("Subscribe first with /subscribe.")
        return
    await update.effective_message.reply_text(
        "Alerts will arrive silently." if arg == "on" else "Alerts will arrive with a notification."
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
